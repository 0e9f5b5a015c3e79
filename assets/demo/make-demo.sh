#!/usr/bin/env bash
# Makes the bundled demo: a small landscape H.264 clip (camera pan over a test pattern, two
# objects moving across it, B-frames) and the project's own stage 1, stage 2 and eval-asset
# outputs for it. Run from anywhere; it rebuilds everything under assets/demo/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
cargo build --release --quiet
bin="$repo/target/release/codecscope"
cd "$here"
rm -rf videos stage1 stage2 eval train.jsonl train.jsonl.fail.txt
mkdir -p videos

# 300 frames at 30 fps, 480x270: the pan comes from cropping a moving window out of a wide
# test pattern; a red square bounces along a sine, a blue bar drifts the other way.
ffmpeg -v error -y \
  -f lavfi -i "testsrc2=size=1280x360:rate=30,format=yuv420p" \
  -f lavfi -i "color=c=0xd04020:size=60x60:rate=30" \
  -f lavfi -i "color=c=0x2060e0:size=40x80:rate=30" \
  -filter_complex "[0:v]crop=480:270:x='min(t*60\,800)':y=40[bg];[bg][1:v]overlay=x='40+mod(t*90\,380)':y='150+40*sin(t*2)':shortest=1[a];[a][2:v]overlay=x='400-mod(t*50\,360)':y=60:shortest=1" \
  -frames:v 300 -c:v libx264 -preset medium -crf 26 -bf 2 -g 120 -pix_fmt yuv420p \
  -movflags +faststart -map_metadata -1 -fflags +bitexact -flags:v +bitexact videos/demo_pan.mp4

cat > dataset.json <<'JSON'
[
  {
    "id": "demo",
    "video": "videos/demo_pan.mp4",
    "conversations": [
      {"from": "human", "value": "<video>\nWhich way does the camera move?\nA. Left\nB. Right\nC. It does not move\nAnswer with the letter."},
      {"from": "gpt", "value": "B."}
    ]
  }
]
JSON
printf '{"video": "videos/demo_pan.mp4", "key": "demo_pan"}\n' > precompute_input.jsonl

# upstream's run-script settings for stage 1 and 2; defaults for the eval assets.
"$bin" select dataset.json --out-root stage1 --padding-policy zero --keep-first-full-frame -q
"$bin" pack dataset.json --visidx-root stage1 --out-jsonl train.jsonl --out-image-root stage2 \
  --first-full --write-positions -q
"$bin" precompute precompute_input.jsonl --out-root eval -q
"$bin" check train.jsonl stage1 eval/assets
