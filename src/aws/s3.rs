//! A local copy of a bucket (`aws s3 sync s3://BUCKET DIR`) seen as the integration sees the
//! bucket: which objects it reads, under which key, in which order.
//!
//! # Keys
//! The folder that holds `AWSLogs/` is the bucket (its name is the bucket name unless one is
//! given); the key is the path from `AWSLogs/` on, `/`-separated ([`s3_location`]). A trail
//! prefix (`<trail_prefix>` of the wodle: `BUCKET/prefix/AWSLogs/…`) is not recovered: the
//! folder holding `AWSLogs/` is taken as the bucket.
//!
//! # Order (`AWSBucket.iter_regions_and_accounts` / `iter_files_in_bucket`, v4.14.7)
//! 1. Accounts: the "folders" (`CommonPrefixes`, delimiter `/`) of `AWSLogs/` (or
//!    `AWSLogs/<org-id>/` when an organization id is configured), in S3 order (UTF-8 bytes of
//!    `name/`), keeping only names matching `^\d{12}$` (`find_account_ids`); or the configured
//!    accounts, in the order given.
//! 2. Regions: the folders of `AWSLogs/<account>/CloudTrail/` (`find_regions`), unfiltered, or
//!    the configured regions (deduplicated, sorted). **Upstream quirk, reproduced:** when no
//!    regions are configured, the list found for the first account that has any is reused for
//!    every later account (`regions` is reassigned inside the loop), so a later account's other
//!    regions are never read.
//! 3. Objects: every key under `AWSLogs/<account>/CloudTrail/<region>/` (any depth, any name:
//!    there is no suffix filter; only keys ending in `/` are skipped), in UTF-8 byte order of
//!    the **whole key** (not folder by folder: `a-b/x` sorts before `a/x`), after the
//!    `StartAfter` marker `…/<region>/<only_logs_after as YYYY/MM/DD>` when one is set (keys
//!    `<=` it are skipped). The integration's default marker, with neither a database nor
//!    `only_logs_after`, is *today*; a replay wants everything, so the default here is no marker.
//!
//! Digest files live under `AWSLogs/<account>/CloudTrail-Digest/` and Insights under
//! `CloudTrail-Insight/`: outside the prefixes above, so never read, like anything else outside
//! them. The already-processed database (`s3_cloudtrail.db`) is not emulated: a replay reads
//! every listed object once.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use super::cloudtrail::LogFile;
use super::error::AwsError;
use super::pystr;

/// Where a local file sits in S3: (bucket, key). The bucket is `bucket` if given, else the
/// name of the folder holding the nearest `AWSLogs` folder above the file; the key is the path
/// from that `AWSLogs` on. Relative paths are taken from the current folder.
pub fn s3_location(path: &Path, bucket: Option<&str>) -> Result<(String, String), AwsError> {
    let not_in = || AwsError::NotInBucket { path: path.to_path_buf() };
    let abs = std::path::absolute(path).map_err(|source| AwsError::Io { path: path.to_path_buf(), source })?;
    let parts: Vec<Component<'_>> = abs.components().collect();
    // The last AWSLogs folder (not the file itself).
    let logs =
        (0..parts.len().saturating_sub(1)).rev().find(|&i| parts[i].as_os_str() == "AWSLogs").ok_or_else(not_in)?;
    let mut key = String::new();
    for c in &parts[logs..] {
        let Component::Normal(name) = c else { return Err(not_in()) };
        if !key.is_empty() {
            key.push('/');
        }
        key.push_str(name.to_str().ok_or_else(not_in)?);
    }
    let bucket = match bucket {
        Some(b) => b.to_string(),
        None => match parts[..logs].last() {
            Some(Component::Normal(name)) => name.to_str().ok_or_else(not_in)?.to_string(),
            _ => return Err(not_in()),
        },
    };
    Ok((bucket, key))
}

/// What of the integration's configuration shapes the listing (the `<bucket>` options of the
/// wodle).
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// The bucket name of every file (else: each file's folder holding `AWSLogs/`).
    pub bucket: Option<String>,
    /// `<aws_account_id>`: accounts to read, in this order (empty: those found).
    pub accounts: Vec<String>,
    /// `<regions>`: regions to read (empty: those found, with the first-account quirk).
    pub regions: Vec<String>,
    /// `<aws_organization_id>`: accounts are then under `AWSLogs/<org-id>/`.
    pub organization_id: Option<String>,
    /// `<only_logs_after>` as `YYYY/MM/DD`: keys up to `…/<region>/YYYY/MM/DD` are skipped.
    pub only_logs_after: Option<String>,
}

/// A log file the integration would read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    /// The local file.
    pub path: PathBuf,
    /// Its bucket, key and the account being listed.
    pub file: LogFile,
}

/// Why a file found under the walked folder is not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// No `AWSLogs` folder above it, or a name that is not UTF-8.
    NotInBucket,
    /// Not under `AWSLogs/<listed account>/CloudTrail/<region>/` (digests, Insights, other
    /// services, accounts not matching `^\d{12}$` or not configured, loose files).
    NotListed,
    /// Under a region folder of its account that the integration does not visit: a region not
    /// configured, or (no regions configured) one the first account with regions lacks.
    RegionNotListed,
    /// At or before the `only_logs_after` marker.
    BeforeOnlyLogsAfter,
    /// Same bucket and key as a file listed earlier (two folders given the same bucket name).
    DuplicateKey,
}

/// A file the integration would not read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The local file.
    pub path: PathBuf,
    /// Why.
    pub reason: SkipReason,
}

/// The result of [`walk`]: the files to read, in the integration's order, and the others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Walk {
    /// Files to read, bucket by bucket (buckets by name), each in the integration's order.
    pub objects: Vec<S3Object>,
    /// Files found but not read, in path order.
    pub skipped: Vec<Skipped>,
}

/// Every file below `root` (a bucket folder, a folder of bucket folders, or a folder inside a
/// bucket), sorted into what the integration would read and in which order. Symbolic links to
/// files count as files; linked folders are not entered (as `os.walk`). A `root` that is a file
/// is returned alone, located but not filtered.
pub fn walk(root: &Path, opts: &WalkOptions) -> Result<Walk, AwsError> {
    let meta = std::fs::metadata(root).map_err(|source| AwsError::Io { path: root.to_path_buf(), source })?;
    if !meta.is_dir() {
        let (bucket, key) = s3_location(root, opts.bucket.as_deref())?;
        let file = LogFile::from_key(&bucket, &key)?;
        return Ok(Walk { objects: vec![S3Object { path: root.to_path_buf(), file }], skipped: Vec::new() });
    }
    let mut files = Vec::new();
    collect_files(root, &mut files)?;
    files.sort();

    let mut out = Walk::default();
    let mut buckets: BTreeMap<String, Vec<(String, PathBuf)>> = BTreeMap::new();
    for path in files {
        match s3_location(&path, opts.bucket.as_deref()) {
            Ok((bucket, key)) => buckets.entry(bucket).or_default().push((key, path)),
            Err(_) => out.skipped.push(Skipped { path, reason: SkipReason::NotInBucket }),
        }
    }
    for (bucket, mut objects) in buckets {
        objects.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let keys: Vec<&str> = objects.iter().map(|(k, _)| k.as_str()).collect();
        let (listed, skipped) = list_bucket(&keys, opts);
        for (i, account) in listed {
            let (key, path) = &objects[i];
            let file = LogFile { bucket: bucket.clone(), key: key.clone(), account_id: account };
            out.objects.push(S3Object { path: path.clone(), file });
        }
        for (i, reason) in skipped {
            out.skipped.push(Skipped { path: objects[i].1.clone(), reason });
        }
    }
    out.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Appends every file below `dir` (recursively; links to files included, linked folders not
/// entered).
fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), AwsError> {
    let io = |source| AwsError::Io { path: dir.to_path_buf(), source };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let ft = entry.file_type().map_err(|source| AwsError::Io { path: path.clone(), source })?;
        if ft.is_dir() {
            collect_files(&path, out)?;
        } else if ft.is_file() || (ft.is_symlink() && std::fs::metadata(&path).is_ok_and(|m| m.is_file())) {
            out.push(path);
        }
    }
    Ok(())
}

/// The "folder" names right below `prefix` among sorted `keys` (S3 `CommonPrefixes` with
/// delimiter `/`), in S3 order (bytes of `name/`).
fn folders<'k>(keys: &[&'k str], prefix: &str) -> Vec<&'k str> {
    let lo = keys.partition_point(|k| k.as_bytes() < prefix.as_bytes());
    let mut names: Vec<&str> = keys[lo..]
        .iter()
        .take_while(|k| k.starts_with(prefix))
        .filter_map(|k| k[prefix.len()..].split_once('/').map(|(name, _)| name))
        .collect();
    names.sort_by(|a, b| a.bytes().chain(*b"/").cmp(b.bytes().chain(*b"/")));
    names.dedup();
    names
}

/// `prefix_regex.match(account_id)` with `^\d{12}$` (Python: Unicode digits; `$` also before a
/// final newline).
fn is_account_name(name: &str) -> bool {
    let name = name.strip_suffix('\n').unwrap_or(name);
    name.chars().count() == 12 && name.chars().all(|c| pystr::is_decimal(u32::from(c)))
}

/// The listing of one bucket: indices (into its sorted keys) read, in order, each with the
/// account being listed; and indices skipped, each with its reason.
pub(crate) type Listing = (Vec<(usize, String)>, Vec<(usize, SkipReason)>);

/// Emulates the listing of one bucket over its `keys` (sorted by bytes).
pub(crate) fn list_bucket(keys: &[&str], opts: &WalkOptions) -> Listing {
    let mut base = String::from("AWSLogs/");
    if let Some(org) = &opts.organization_id {
        base.push_str(org);
        base.push('/');
    }
    let accounts: Vec<String> = if opts.accounts.is_empty() {
        folders(keys, &base).into_iter().filter(|a| is_account_name(a)).map(str::to_string).collect()
    } else {
        opts.accounts.clone()
    };
    let mut regions: Vec<String> = opts.regions.clone();
    regions.sort();
    regions.dedup();

    let mut state: Vec<Option<SkipReason>> = vec![Some(SkipReason::NotListed); keys.len()];
    let mut listed = Vec::new();
    for account in &accounts {
        let service = format!("{base}{account}/CloudTrail/");
        if regions.is_empty() {
            regions = folders(keys, &service).into_iter().map(str::to_string).collect();
            if regions.is_empty() {
                continue;
            }
        }
        for region in &regions {
            let prefix = format!("{service}{region}/");
            let marker = opts.only_logs_after.as_ref().map(|d| format!("{prefix}{d}"));
            let lo = keys.partition_point(|k| k.as_bytes() < prefix.as_bytes());
            for (i, key) in keys.iter().enumerate().skip(lo).take_while(|(_, k)| k.starts_with(&prefix)) {
                if state[i].is_none() {
                    continue; // already listed (an account or region named twice)
                }
                if marker.as_ref().is_some_and(|m| key.as_bytes() <= m.as_bytes()) {
                    state[i] = Some(SkipReason::BeforeOnlyLogsAfter);
                } else if i > 0 && keys[i - 1] == *key {
                    state[i] = Some(SkipReason::DuplicateKey);
                } else {
                    state[i] = None;
                    listed.push((i, account.clone()));
                }
            }
        }
    }
    // Files under a region folder of a listed account that was not visited.
    for (i, key) in keys.iter().enumerate() {
        if state[i] == Some(SkipReason::NotListed) {
            let in_region_folder = accounts.iter().any(|a| {
                key.strip_prefix(&base)
                    .and_then(|r| r.strip_prefix(a.as_str()))
                    .and_then(|r| r.strip_prefix("/CloudTrail/"))
                    .is_some_and(|r| r.split_once('/').is_some_and(|(region, _)| !region.is_empty()))
            });
            if in_region_folder {
                state[i] = Some(SkipReason::RegionNotListed);
            }
        }
    }
    let skipped = state.iter().enumerate().filter_map(|(i, s)| s.map(|r| (i, r))).collect();
    (listed, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(keys: &[&str], opts: &WalkOptions) -> (Vec<String>, Vec<(String, SkipReason)>) {
        let mut sorted = keys.to_vec();
        sorted.sort();
        let (l, s) = list_bucket(&sorted, opts);
        (
            l.into_iter().map(|(i, _)| sorted[i].to_string()).collect(),
            s.into_iter().map(|(i, r)| (sorted[i].to_string(), r)).collect(),
        )
    }

    #[test]
    fn whole_key_order_and_prefixes() {
        let keys = [
            "AWSLogs/111111111111/CloudTrail/us-east-1/2024/08/02/b.json.gz",
            "AWSLogs/111111111111/CloudTrail/us-east-1/2024/08/01/a.json.gz",
            "AWSLogs/111111111111/CloudTrail/us-east-1/2024/08-01/z.json.gz",
            "AWSLogs/111111111111/CloudTrail/us-east-1/notes.txt",
            "AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2024/08/01/d.json.gz",
            "AWSLogs/111111111111/CloudTrail/loose.json",
            "AWSLogs/o-abcdefgh/111111111111/CloudTrail/us-east-1/o.json",
            "AWSLogs/12345/CloudTrail/us-east-1/short.json",
            "other/x.json",
        ];
        let (listed, skipped) = order(&keys, &WalkOptions::default());
        assert_eq!(
            listed,
            [
                "AWSLogs/111111111111/CloudTrail/us-east-1/2024/08-01/z.json.gz",
                "AWSLogs/111111111111/CloudTrail/us-east-1/2024/08/01/a.json.gz",
                "AWSLogs/111111111111/CloudTrail/us-east-1/2024/08/02/b.json.gz",
                "AWSLogs/111111111111/CloudTrail/us-east-1/notes.txt",
            ]
        );
        assert_eq!(skipped.len(), 5);
        assert!(skipped.iter().all(|(_, r)| *r == SkipReason::NotListed));

        let org = WalkOptions { organization_id: Some("o-abcdefgh".into()), ..Default::default() };
        assert_eq!(order(&keys, &org).0, ["AWSLogs/o-abcdefgh/111111111111/CloudTrail/us-east-1/o.json"]);

        let after = WalkOptions { only_logs_after: Some("2024/08/01".into()), ..Default::default() };
        let (listed, skipped) = order(&keys, &after);
        // `…/2024/08/01/a…` sorts after the marker `…/2024/08/01`, `notes.txt` after `2024/…`;
        // `…/2024/08-01/z…` sorts before it ('-' < '/').
        assert_eq!(listed.len(), 3, "{listed:?}");
        let before: Vec<_> = skipped.iter().filter(|(_, r)| *r == SkipReason::BeforeOnlyLogsAfter).collect();
        assert_eq!(before.len(), 1);
        assert!(before[0].0.ends_with("z.json.gz"));
    }

    #[test]
    fn first_account_regions_are_reused() {
        let keys = [
            "AWSLogs/111111111111/CloudTrail/us-east-1/a.json",
            "AWSLogs/222222222222/CloudTrail/eu-west-1/b.json",
            "AWSLogs/222222222222/CloudTrail/us-east-1/c.json",
        ];
        let (listed, skipped) = order(&keys, &WalkOptions::default());
        assert_eq!(
            listed,
            ["AWSLogs/111111111111/CloudTrail/us-east-1/a.json", "AWSLogs/222222222222/CloudTrail/us-east-1/c.json"]
        );
        assert_eq!(
            skipped,
            [("AWSLogs/222222222222/CloudTrail/eu-west-1/b.json".to_string(), SkipReason::RegionNotListed)]
        );
        let both = WalkOptions { regions: vec!["us-east-1".into(), "eu-west-1".into()], ..Default::default() };
        assert_eq!(order(&keys, &both).0.len(), 3);
    }

    #[test]
    fn location_of_a_synced_file() {
        let p = Path::new("/data/my-bucket/AWSLogs/111111111111/CloudTrail/us-east-1/2024/08/01/x.json.gz");
        assert_eq!(
            s3_location(p, None).unwrap(),
            ("my-bucket".into(), "AWSLogs/111111111111/CloudTrail/us-east-1/2024/08/01/x.json.gz".into())
        );
        assert_eq!(s3_location(p, Some("b")).unwrap().0, "b");
        assert!(s3_location(Path::new("/data/my-bucket/x.json"), None).is_err());
        assert!(s3_location(Path::new("/data/AWSLogs"), None).is_err());
    }
}
