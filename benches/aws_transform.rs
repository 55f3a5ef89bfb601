//! The CloudTrail → integration-event transformation, per event: the hot path of replaying a
//! trail. `cargo bench --bench aws_transform`. Throughput is reported in events, so the time per
//! element is the cost of one event (parse + reshape + print; plus gunzip in the `gzip` case).

use std::io::Write;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use logtest::aws::{LogFile, Transformer};

/// A file of `n` records shaped like real management events (IAM, EC2, console logins, S3 data
/// events, errors), about 1.3 KB each.
fn trail_file(n: usize) -> Vec<u8> {
    let mut s = String::from("{\"Records\":[");
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        let (name, source, params) = match i % 4 {
            0 => ("CreateUser", "iam.amazonaws.com", format!(r#"{{"userName":"user-{i}","tags":[{{"key":"team","value":"blue"}}]}}"#)),
            1 => ("RunInstances", "ec2.amazonaws.com", r#"{"instancesSet":{"items":[{"imageId":"ami-0abcdef1234567890","minCount":1,"maxCount":1}]},"instanceType":"t3.micro","disableApiTermination":false,"blockDeviceMapping":{},"monitoring":{"enabled":false}}"#.to_string()),
            2 => ("ConsoleLogin", "signin.amazonaws.com", "null".to_string()),
            _ => ("GetObject", "s3.amazonaws.com", format!(r#"{{"bucketName":"data-bucket","Host":"data-bucket.s3.amazonaws.com","key":"reports/2025/03/{i}.csv"}}"#)),
        };
        s.push_str(&format!(
            r#"{{"eventVersion":"1.09","userIdentity":{{"type":"IAMUser","principalId":"AIDAEXAMPLE{i:06}","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE{i:06}","userName":"alice","sessionContext":{{"sessionIssuer":{{}},"webIdFederationData":{{}},"attributes":{{"creationDate":"2025-03-14T10:00:00Z","mfaAuthenticated":"false"}}}}}},"eventTime":"2025-03-14T10:{m:02}:{sec:02}Z","eventSource":"{source}","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.{ip}","userAgent":"aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64.ubuntu.22 prompt/off command/iam.create-user","requestParameters":{params},"responseElements":{resp},"requestID":"{i:08x}-1111-2222-3333-444455556666","eventID":"{i:08x}-aaaa-bbbb-cccc-ddddeeeeffff","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"{source}"}}{extra}}}"#,
            m = i / 60 % 60,
            sec = i % 60,
            ip = i % 250,
            resp = if i % 4 == 2 { r#"{"ConsoleLogin":"Failure"}"# } else { "null" },
            extra = if i % 7 == 0 { r#","errorCode":"AccessDenied","errorMessage":"User: arn:aws:iam::111122223333:user/alice is not authorized to perform this action""# } else { "" },
        ));
    }
    s.push_str("]}");
    s.into_bytes()
}

fn bench(c: &mut Criterion) {
    const N: usize = 2000;
    let plain = trail_file(N);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let gz = gz.finish().unwrap();
    let file = LogFile::from_key(
        "my-trail",
        "AWSLogs/111122223333/CloudTrail/us-east-1/2025/03/14/111122223333_CloudTrail_us-east-1_20250314T1005Z_abc.json.gz",
    )
    .unwrap();
    let mut t = Transformer::new();
    let mut g = c.benchmark_group("cloudtrail");
    g.throughput(Throughput::Elements(N as u64));
    for (name, data) in [("plain", &plain), ("gzip", &gz)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut bytes = 0;
                let n = t.for_each_event(data, &file, |e| bytes += e.len()).unwrap();
                assert_eq!(n, N);
                bytes
            })
        });
    }
    // For scale: serde_json building its own tree of the same file (no reshaping, no output).
    g.bench_function("serde_json_value_parse_only", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(&plain).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
