//! STUB (replaced by the real implementation).
use crate::json::Json;
pub fn render_event(_data: &Json, _out: &mut Vec<u8>) {}
pub fn py_str(_v: &Json, _out: &mut Vec<u8>) {}
pub fn unit_triple(_data: &Json) -> [Vec<u8>; 3] { [Vec::new(), Vec::new(), Vec::new()] }
pub fn unit_test_line(_expected: &[Vec<u8>; 3], _got: &[Vec<u8>; 3], _out: &mut Vec<u8>) {}
