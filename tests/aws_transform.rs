//! Raw CloudTrail files → the AWS integration's events, against what the real Wazuh 4.14.7
//! integration sent for the same files (`../shared/expected/cloudtrail/*.events`), byte for byte;
//! plus the error paths and the walk of a synced bucket.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use logtest::aws::{self, AwsError, InputKind, LogFile, SkipReason, Transformer, WalkOptions};

/// A fresh, empty temporary folder for `tag`.
fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("logtest-aws-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

const KEY: &str =
    "AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/111122223333_CloudTrail_us-east-1_20250314T0000Z_x.json.gz";

fn file() -> LogFile {
    LogFile::from_key("my-trail", KEY).unwrap()
}

fn events_of(data: &[u8]) -> Result<Vec<String>, AwsError> {
    Ok(Transformer::new().events(data, &file())?.into_iter().map(|e| String::from_utf8(e).unwrap()).collect())
}

/// Every sample laid out by `make-s3-layout.py` as `aws s3 sync` would, walked and transformed,
/// must give the real integration's events exactly.
#[test]
fn samples_match_the_real_integration() {
    let Some(shared) = common::shared() else { return };
    let out = temp_dir("layout");
    let script = shared.join("cloudtrail/make-s3-layout.py");
    let run = Command::new("python3").arg(&script).arg(&out).output().unwrap_or_else(|e| {
        panic!("cannot run python3 (needed to lay out the CloudTrail samples with {}): {e}", script.display())
    });
    assert!(run.status.success(), "make-s3-layout.py failed: {}", String::from_utf8_lossy(&run.stderr));
    // "name bucket key records" per file.
    let laid: Vec<(String, String, String, usize)> = String::from_utf8(run.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f[0].to_string(), f[1].to_string(), f[2].to_string(), f[3].parse().unwrap())
        })
        .collect();
    assert!(laid.len() >= 40, "only {} sample files laid out", laid.len());

    let walk = aws::walk(&out, &WalkOptions::default()).expect("walk");
    assert!(walk.skipped.is_empty(), "files the integration would not read: {:?}", walk.skipped);
    assert_eq!(walk.objects.len(), laid.len(), "every laid-out file is listed");

    let mut t = Transformer::new();
    let (mut files, mut events, mut bad) = (0, 0, Vec::new());
    for obj in &walk.objects {
        let (name, _, _, records) = laid
            .iter()
            .find(|(_, b, k, _)| *b == obj.file.bucket && *k == obj.file.key)
            .unwrap_or_else(|| panic!("walked {:?} was not laid out", obj.file));
        let expected = std::fs::read(shared.join(format!("expected/cloudtrail/{name}.events"))).unwrap();
        let data = std::fs::read(&obj.path).unwrap();
        let mut got = Vec::new();
        let n = t
            .for_each_event(&data, &obj.file, |e| {
                got.extend_from_slice(e);
                got.push(b'\n');
            })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(n, *records, "{name}: one event per record");
        if got == expected {
            files += 1;
            events += n;
        } else {
            let line = got.split(|&b| b == b'\n').zip(expected.split(|&b| b == b'\n')).position(|(g, e)| g != e);
            bad.push(format!("{name}: first differing event {line:?}"));
        }
    }
    eprintln!("aws_transform: {files}/{} files, {events} events byte-identical to the real integration", laid.len());
    assert!(bad.is_empty(), "{} files differ:\n{}", bad.len(), bad.join("\n"));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn gzip_and_plain_give_the_same_events() {
    let body =
        br#"{"Records": [{"eventVersion": "1.08", "eventName": "ConsoleLogin", "sourceIPAddress": "198.51.100.7"}]}"#;
    let plain = events_of(body).unwrap();
    assert_eq!(events_of(&gzip(body)).unwrap(), plain);
    // Concatenated gzip members are one stream, as Python's gzip reads them.
    let mut two = gzip(&body[..20]);
    two.extend(gzip(&body[20..]));
    assert_eq!(events_of(&two).unwrap(), plain);
    assert_eq!(
        plain,
        [concat!(
            r#"{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": ""#,
            "AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/111122223333_CloudTrail_us-east-1_20250314T0000Z_x.json.gz",
            r#"", "s3bucket": "my-trail"}, "eventVersion": "1.08", "eventName": "ConsoleLogin", "#,
            r#""sourceIPAddress": "198.51.100.7", "source": "cloudtrail", "aws_account_id": "111122223333", "#,
            r#""source_ip_address": "198.51.100.7"}}"#
        )]
    );
    // A truncated gzip stream is an error naming the file.
    let gz = gzip(body);
    let e = events_of(&gz[..gz.len() - 6]).unwrap_err();
    assert!(matches!(e, AwsError::Gzip { .. }), "{e}");
    assert!(e.to_string().contains(KEY), "{e}");
}

#[test]
fn bad_json_names_the_file_and_the_place() {
    let e = events_of(b"{\"Records\": [\n  {\"a\": 1},\n  {\"b\" 2}\n]}").unwrap_err();
    match &e {
        AwsError::Json { file, offset, line, column, msg } => {
            assert_eq!(file, KEY);
            assert_eq!((*offset, *line, *column), (33, 3, 8));
            assert_eq!(*msg, "Expecting ':' delimiter");
        }
        other => panic!("{other}"),
    }
    assert!(e.to_string().contains(KEY) && e.to_string().contains("line 3"), "{e}");
    assert!(matches!(events_of(b"").unwrap_err(), AwsError::Json { offset: 0, .. }));
    assert!(matches!(events_of(b"{\"Records\": []} trailing").unwrap_err(), AwsError::Json { msg: "Extra data", .. }));
    let e = events_of(b"{\"Records\": [{\"a\": \"\xff\"}]}").unwrap_err();
    assert!(matches!(e, AwsError::Utf8 { offset: 20, line: 1, .. }), "{e}");
}

#[test]
fn no_records_no_events() {
    for body in
        [&b"{\"Records\": []}"[..], b"{}", b"{\"other\": 1}", b"[]", b"[1, 2]", b"\"text\"", b" {\"Records\": {}} "]
    {
        assert_eq!(events_of(body).unwrap(), Vec::<String>::new(), "{}", String::from_utf8_lossy(body));
    }
    // `dict([])` and `dict("")` are empty dicts: an event with only what the integration adds.
    let ev = events_of(b"{\"Records\": [[], \"\"]}").unwrap();
    assert_eq!(ev.len(), 2);
    assert!(ev[0].ends_with(r#""s3bucket": "my-trail"}, "source": "cloudtrail", "aws_account_id": "111122223333"}}"#));
}

#[test]
fn a_record_that_is_not_an_object_fails_the_whole_file() {
    for body in [
        &b"{\"Records\": [{\"a\": 1}, 5]}"[..],
        b"{\"Records\": [{\"a\": 1}, \"text\"]}",
        b"{\"Records\": [null]}",
        b"{\"Records\": 3}",
        b"{\"Records\": null}",
        b"{\"Records\": {\"k\": 1}}",
        b"[\"Records\"]",
        b"\"has Records in it\"",
        b"7",
    ] {
        let e = events_of(body).unwrap_err();
        assert!(matches!(e, AwsError::Shape { .. }), "{}: {e}", String::from_utf8_lossy(body));
        assert!(e.to_string().starts_with(KEY), "{e}");
    }
}

#[test]
fn source_ip_that_is_not_a_string_stops_after_the_events_before_it() {
    let body = br#"{"Records": [{"sourceIPAddress": "1.2.3.4"}, {"sourceIPAddress": 5}, {"sourceIPAddress": "x"}]}"#;
    let mut got = 0;
    let e = Transformer::new().for_each_event(body, &file(), |_| got += 1).unwrap_err();
    assert!(matches!(e, AwsError::SourceIpNotString { record: 1, emitted: 1, .. }), "{e}");
    assert_eq!(got, 1);
}

#[test]
fn key_outside_awslogs_is_refused() {
    for key in [
        "CloudTrail/us-east-1/2025/03/14/x.json.gz",
        "logs/111122223333/CloudTrail/us-east-1/x.json.gz",
        "AWSLogs/111122223333/Config/us-east-1/x.json.gz",
        "AWSLogs/111122223333/CloudTrail/x.json.gz",
    ] {
        let e = aws::cloudtrail_events(b"{\"Records\": []}", "b", key).unwrap_err();
        assert!(matches!(&e, AwsError::KeyLayout { key: k } if k == key), "{e}");
    }
    assert!(aws::s3_location(Path::new("/tmp/bucket/CloudTrail/x.json"), None).is_err());
}

/// The reshaping steps on one record, each as CPython does it (checked with the real
/// integration through `../shared/wodle/run_wodle.py`).
#[test]
fn reshaping_like_the_integration() {
    let ev = events_of(
        r#"{"Records": [{"eventName": "RunInstances", "source": "mine", "aws_account_id": "x", "sourceIPAddress": "1.2.3.4, 5.6.7.8",
        "requestParameters": {"disableApiTermination": false, "tagSpecificationSet": {"items": [{"tags": [{"key": "k", "value": null}]}]},
        "n": null, "one": [[1, 2]], "deep": {"l": ["only"]}}, "responseElements": null, "additionalEventData": ["a", "b'", {"x": null, "t": true}, 1.5e-7, -0],
        "tags": ["solo"], "resources": [{"ARN": "arn:1"}, {"ARN": "arn:2"}], "uni": "é😀\u00e9\ud800\/", "big": 123456789012345678901234567890, "f": 1E2}]}"#
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(ev.len(), 1);
    let want = concat!(
        r#"{"integration": "aws", "aws": {"log_info": {"aws_account_alias": "", "log_file": "AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/111122223333_CloudTrail_us-east-1_20250314T0000Z_x.json.gz", "s3bucket": "my-trail"}, "#,
        r#""eventName": "RunInstances", "source": "cloudtrail", "aws_account_id": "111122223333", "sourceIPAddress": "1.2.3.4, 5.6.7.8", "#,
        r#""requestParameters": {"disableApiTermination": {"value": false}, "tagSpecificationSet": {"items": {"tags": [{"key": "k", "value": null}]}}, "one": [1, 2], "deep": {"l": "only"}}, "#,
        r#""additionalEventData": {"string": "['a', \"b'\", {'x': None, 't': True}, 1.5e-07, 0]"}, "#,
        r#""tags": {"value": "solo"}, "resources": [{"ARN": "arn:1"}, {"ARN": "arn:2"}], "uni": "\u00e9\ud83d\ude00\u00e9\ud800/", "big": 123456789012345678901234567890, "f": 100.0, "#,
        r#""source_ip_address": "1.2.3.4, 5.6.7.8"}}"#
    );
    assert_eq!(ev[0], want);

    // A non-dict dynamic field that is a string stays that string; a number becomes its repr.
    let ev = events_of(
        br#"{"Records": [{"responseElements": "OK", "requestParameters": 12, "additionalEventData": [true]}]}"#,
    )
    .unwrap();
    assert!(
        ev[0].contains(r#""responseElements": {"string": "OK"}, "requestParameters": {"string": "12"}, "additionalEventData": {"string": "True"}"#),
        "{}",
        ev[0]
    );
    // Hostnames and IPv6 get no source_ip_address.
    for ip in ["cloudtrail.amazonaws.com", "2001:db8::1", "AWS Internal"] {
        let ev = events_of(format!(r#"{{"Records": [{{"sourceIPAddress": "{ip}"}}]}}"#).as_bytes()).unwrap();
        assert!(!ev[0].contains("source_ip_address"), "{}", ev[0]);
    }
    // Duplicate keys: the first key's place, the last value.
    let ev = events_of(br#"{"Records": [{"a": 1, "b": 2, "a": 3}]}"#).unwrap();
    assert!(ev[0].contains(r#""my-trail"}, "a": 3, "b": 2, "source""#), "{}", ev[0]);
    // A record's own log_info replaces the template, first.
    let ev = events_of(br#"{"Records": [{"a": 1, "log_info": {"x": [1]}}]}"#).unwrap();
    assert!(ev[0].starts_with(r#"{"integration": "aws", "aws": {"log_info": {"x": 1}, "a": 1, "source""#), "{}", ev[0]);
}

/// CPython's recursion limit: a record nesting 978 dicts passes through the integration, 979
/// fail the file (measured with the real integration); no stack overflow either way.
#[test]
fn deep_nesting_is_bounded_like_cpython() {
    let deep = |d: usize| format!("{{\"Records\": [{{\"deep\": {}1{}}}]}}", "{\"a\": ".repeat(d), "}".repeat(d));
    assert_eq!(events_of(deep(978).as_bytes()).unwrap().len(), 1);
    let e = events_of(deep(979).as_bytes()).unwrap_err();
    assert!(matches!(e, AwsError::Json { msg, .. } if msg.starts_with("maximum recursion depth exceeded")), "{e}");
    let arrays = format!("{{\"Records\": [{{\"deep\": {}1{}}}]}}", "[".repeat(5000), "]".repeat(5000));
    assert!(events_of(arrays.as_bytes()).is_err());
}

#[test]
fn account_alias_goes_into_log_info() {
    let ev = Transformer::with_account_alias("prod").events(b"{\"Records\": [{}]}", &file()).unwrap();
    assert!(String::from_utf8_lossy(&ev[0]).contains(r#"{"aws_account_alias": "prod", "log_file""#));
}

/// A folder synced from a bucket: files in the integration's order, a bad file failing alone.
#[test]
fn walk_a_synced_bucket_and_keep_going_past_a_bad_file() {
    let root = temp_dir("walk");
    let put = |rel: &str, data: &[u8]| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    };
    let rec = |name: &str| format!(r#"{{"Records": [{{"eventName": "{name}"}}]}}"#).into_bytes();
    let day = "trail/AWSLogs/111111111111/CloudTrail/us-east-1/2024/08/01";
    put(&format!("{day}/b.json.gz"), &gzip(&rec("B")));
    put(&format!("{day}/a.json"), &rec("A"));
    put(&format!("{day}/c.json"), b"{\"Records\": [");
    put(&format!("{day}/d.json"), &rec("D"));
    put("trail/AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2024/08/01/digest.json.gz", &gzip(b"{}"));
    put("trail/AWSLogs/222222222222/CloudTrail/us-east-1/2024/08/01/e.json", &rec("E"));
    put("trail/AWSLogs/222222222222/CloudTrail/eu-west-1/2024/08/01/f.json", &rec("F"));
    put("trail/README", b"x");
    put("loose.json", b"{}");

    let w = aws::walk(&root, &WalkOptions::default()).unwrap();
    let keys: Vec<String> = w.objects.iter().map(|o| format!("{} {}", o.file.bucket, o.file.key)).collect();
    assert_eq!(
        keys,
        [
            "trail AWSLogs/111111111111/CloudTrail/us-east-1/2024/08/01/a.json",
            "trail AWSLogs/111111111111/CloudTrail/us-east-1/2024/08/01/b.json.gz",
            "trail AWSLogs/111111111111/CloudTrail/us-east-1/2024/08/01/c.json",
            "trail AWSLogs/111111111111/CloudTrail/us-east-1/2024/08/01/d.json",
            "trail AWSLogs/222222222222/CloudTrail/us-east-1/2024/08/01/e.json",
        ]
    );
    let reasons: Vec<(String, SkipReason)> = w
        .skipped
        .iter()
        .map(|s| (s.path.strip_prefix(&root).unwrap().to_string_lossy().into_owned(), s.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            ("loose.json".to_string(), SkipReason::NotInBucket),
            (
                "trail/AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2024/08/01/digest.json.gz".into(),
                SkipReason::NotListed
            ),
            ("trail/AWSLogs/222222222222/CloudTrail/eu-west-1/2024/08/01/f.json".into(), SkipReason::RegionNotListed),
            ("trail/README".into(), SkipReason::NotInBucket),
        ]
    );

    let mut t = Transformer::new();
    let (mut names, mut errors) = (Vec::new(), Vec::new());
    for o in &w.objects {
        let data = std::fs::read(&o.path).unwrap();
        let r = t.for_each_event(&data, &o.file, |e| {
            let v: serde_json::Value = serde_json::from_slice(e).unwrap();
            names.push(v["aws"]["eventName"].as_str().unwrap().to_string());
        });
        if let Err(e) = r {
            errors.push(e.to_string());
        }
    }
    assert_eq!(names, ["A", "B", "D", "E"]);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("c.json") && errors[0].contains("line 1"), "{}", errors[0]);

    // The bucket name can be given; a folder inside the bucket walks its part only.
    let opts = WalkOptions { bucket: Some("real-name".into()), ..Default::default() };
    let w = aws::walk(&root.join(day), &opts).unwrap();
    assert_eq!(w.objects.len(), 4);
    assert!(w.objects.iter().all(|o| o.file.bucket == "real-name" && o.file.account_id == "111111111111"));
    // A single file is returned alone.
    let w = aws::walk(&root.join(day).join("a.json"), &WalkOptions::default()).unwrap();
    assert_eq!(w.objects.len(), 1);
    assert_eq!(w.objects[0].file.bucket, "trail");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn input_kinds_by_content() {
    assert_eq!(aws::detect_input_kind(b"{\"Records\": [{}]}"), InputKind::CloudTrail);
    assert_eq!(aws::detect_input_kind(&gzip(b"{\"Records\": []}")), InputKind::CloudTrail);
    assert_eq!(aws::detect_input_kind(b"{\"integration\": \"aws\", \"aws\": {}}\n"), InputKind::AwsEvents);
    assert_eq!(aws::detect_input_kind(b"{\"full_log\": \"x\", \"location\": \"y\"}\n"), InputKind::Archives);
    assert_eq!(aws::detect_input_kind(b"Oct 10 10:10:10 h sshd[1]: x\n"), InputKind::Plain);
}

/// Not a check: a tool for differential runs against the real integration
/// (`../shared/wodle/run_wodle.py run --s3 ROOT …`). With `LOGTEST_AWS_DUMP=ROOT/BUCKET` and
/// `LOGTEST_AWS_OUT=FILE`, walks the bucket folder and writes its events, one per line, plus
/// `# error: …` lines for files that fail:
/// `cargo test --release --test aws_transform dump -- --ignored`.
#[test]
#[ignore]
fn dump() {
    let (Some(dir), Some(out)) = (std::env::var_os("LOGTEST_AWS_DUMP"), std::env::var_os("LOGTEST_AWS_OUT")) else {
        return;
    };
    let w = aws::walk(Path::new(&dir), &WalkOptions::default()).unwrap();
    let mut t = Transformer::new();
    let mut text = Vec::new();
    for o in &w.objects {
        let data = std::fs::read(&o.path).unwrap();
        if let Err(e) = t.for_each_event(&data, &o.file, |e| {
            text.extend_from_slice(e);
            text.push(b'\n');
        }) {
            text.extend_from_slice(format!("# error: {e}\n").as_bytes());
        }
    }
    std::fs::write(out, text).unwrap();
}
