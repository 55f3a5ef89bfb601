//! STUB (replaced by the real implementation).
#[derive(Debug, Clone, PartialEq)]
pub enum Json { Null, Bool(bool), Number(f64), String(Vec<u8>), Array(Vec<Json>), Object(Vec<(Vec<u8>, Json)>) }
pub fn parse_prefix(_input: &[u8]) -> Option<Json> { None }
pub fn parse_complete(_input: &[u8]) -> Option<Json> { None }
impl Json {
    pub fn write_unformatted(&self, _out: &mut Vec<u8>) {}
    pub fn write_formatted(&self, _out: &mut Vec<u8>) {}
    pub fn to_unformatted(&self) -> Vec<u8> { Vec::new() }
    pub fn get_ci(&self, _key: &[u8]) -> Option<&Json> { None }
    pub fn get_ci_mut(&mut self, _key: &[u8]) -> Option<&mut Json> { None }
}
pub fn wazuh_number(d: f64) -> String { format!("{}", d) }
pub fn flatten(_root: &Json, _null_discard: bool, _csv_arrays: bool, _emit: &mut dyn FnMut(&[u8], Vec<u8>)) {}
