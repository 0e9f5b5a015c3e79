//! The parameter panel's knobs: every field of the pipeline's parameters, read and changed
//! through their serde form so the panel lists exactly what selection takes.

use serde_json::{Map, Value};

use crate::engine::Pipeline;
use crate::select::{
    FuseMode, MvCompensate, OfflineParams, PaddingPolicy, Stage1Params, TopkMode, WindowPick,
};

fn to_map(p: &Pipeline) -> Map<String, Value> {
    let v = match p {
        Pipeline::Stage1(s) => serde_json::to_value(s),
        Pipeline::Offline(o) => serde_json::to_value(o),
    };
    match v {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn from_map(like: &Pipeline, m: Map<String, Value>) -> Result<Pipeline, String> {
    let v = Value::Object(m);
    match like {
        Pipeline::Stage1(_) => serde_json::from_value::<Stage1Params>(v)
            .map(Pipeline::Stage1)
            .map_err(|e| e.to_string()),
        Pipeline::Offline(_) => serde_json::from_value::<OfflineParams>(v)
            .map(Pipeline::Offline)
            .map_err(|e| e.to_string()),
    }
}

/// `(name, value)` of every knob, in the parameters' field order.
pub fn list(p: &Pipeline) -> Vec<(String, Value)> {
    to_map(p).into_iter().collect()
}

/// Accepted spellings of an enum knob.
pub fn choices(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "padding_policy" => PaddingPolicy::NAMES,
        "fuse_mode" => FuseMode::NAMES,
        "mv_compensate" => MvCompensate::NAMES,
        "window_pick" => WindowPick::NAMES,
        "topk_mode" => TopkMode::NAMES,
        _ => return None,
    })
}

fn float_step(name: &str) -> f64 {
    match name {
        "mv_pct" | "res_pct" => 5.0,
        "w_mv" | "w_res" => 0.25,
        _ => 1.0,
    }
}

/// `p` with knob `name` moved one step (`dir` = +1 or -1).
pub fn step(p: &Pipeline, name: &str, dir: i64) -> Result<Pipeline, String> {
    let mut m = to_map(p);
    let cur = m
        .get(name)
        .cloned()
        .ok_or_else(|| format!("no knob {name}"))?;
    let new = match &cur {
        Value::Bool(b) => Value::Bool(!b),
        Value::String(s) => {
            let c = choices(name).ok_or_else(|| format!("{name} has no choices"))?;
            let i = c.iter().position(|x| x == s).unwrap_or(0) as i64;
            let n = c.len() as i64;
            Value::String(c[((i + dir).rem_euclid(n)) as usize].to_string())
        }
        Value::Number(n) if n.is_f64() => {
            let v = n.as_f64().unwrap_or(0.0) + dir as f64 * float_step(name);
            serde_json::Number::from_f64((v * 1000.0).round() / 1000.0)
                .map(Value::Number)
                .ok_or("not a number")?
        }
        Value::Number(n) if n.is_u64() => {
            let step = if name == "square_size" { 16 } else { 1 };
            let v = n.as_u64().unwrap_or(0) as i64 + dir * step;
            Value::from(v.max(if name == "sample_start_offset" { 0 } else { 1 }) as u64)
        }
        Value::Number(n) => Value::from(n.as_i64().unwrap_or(0) + dir),
        _ => return Err(format!("{name} cannot be stepped")),
    };
    m.insert(name.to_string(), new);
    from_map(p, m)
}

/// `p` with knob `name` set from typed text.
pub fn set(p: &Pipeline, name: &str, text: &str) -> Result<Pipeline, String> {
    let mut m = to_map(p);
    let cur = m
        .get(name)
        .cloned()
        .ok_or_else(|| format!("no knob {name}"))?;
    let t = text.trim();
    let new = match cur {
        Value::Bool(_) => match t.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Value::Bool(true),
            "0" | "false" | "no" | "off" => Value::Bool(false),
            _ => return Err(format!("{name}: `{t}` is not true/false")),
        },
        Value::String(_) => {
            let c = choices(name).unwrap_or(&[]);
            let norm = t.to_ascii_lowercase().replace('-', "_");
            if !c.contains(&norm.as_str()) {
                return Err(format!("{name}: `{t}` is not one of {}", c.join(", ")));
            }
            Value::String(norm)
        }
        Value::Number(n) if n.is_f64() => t
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("{name}: `{t}` is not a number"))?,
        Value::Number(_) => t
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("{name}: `{t}` is not an integer"))?,
        _ => return Err(format!("{name} cannot be set")),
    };
    m.insert(name.to_string(), new);
    from_map(p, m)
}

/// Knobs whose values differ between `a` and `b`.
pub fn changed(a: &Pipeline, b: &Pipeline) -> Vec<String> {
    let (ma, mb) = (to_map(a), to_map(b));
    ma.iter()
        .filter(|(k, v)| mb.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .collect()
}

/// A short rendering of a value.
pub fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_and_set() {
        let p = Pipeline::Stage1(Stage1Params::default());
        let q = step(&p, "keep_frames_equiv", 1).unwrap();
        assert_eq!(changed(&p, &q), vec!["keep_frames_equiv".to_string()]);
        let q = step(&p, "padding_policy", 1).unwrap();
        match q {
            Pipeline::Stage1(s) => assert_eq!(s.padding_policy, PaddingPolicy::Zero),
            _ => unreachable!(),
        }
        let q = set(&p, "w_res", "0").unwrap();
        match q {
            Pipeline::Stage1(s) => assert_eq!(s.w_res, 0.0),
            _ => unreachable!(),
        }
        assert!(set(&p, "fuse_mode", "bogus").is_err());
    }
}
