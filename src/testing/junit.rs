//! JUnit XML, as CI systems read it: one `<testsuite>` per suite file, one
//! `<testcase>` per case (or `.ini` key), `<failure>` with the message and
//! details, `<skipped>` for skipped cases, `<error>` for a file that could not
//! be run.

use crate::testing::report::{FileReport, Status};

/// Text escaped for XML (and HTML) content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // XML 1.0 has no way to write other control characters.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => o.push_str(&format!("\\x{:02x}", c as u32)),
            c => o.push(c),
        }
    }
    o
}

/// The JUnit document of a run.
pub fn render(files: &[FileReport], seconds: f64) -> String {
    let count = |f: &FileReport, pred: fn(&Status) -> bool| f.cases.iter().filter(|c| pred(&c.status)).count();
    let failed = |s: &Status| matches!(s, Status::Failed { .. });
    let skipped = |s: &Status| matches!(s, Status::Skipped(_));
    let tests: usize = files.iter().map(|f| f.cases.len() + usize::from(f.error.is_some())).sum();
    let failures: usize = files.iter().map(|f| count(f, failed)).sum();
    let skips: usize = files.iter().map(|f| count(f, skipped)).sum();
    let errors = files.iter().filter(|f| f.error.is_some()).count();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<testsuites name=\"logtest\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skips}\" time=\"{seconds:.3}\">\n"
    ));
    for f in files {
        x.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\" file=\"{}\">\n",
            esc(&f.name),
            f.cases.len() + usize::from(f.error.is_some()),
            count(f, failed),
            usize::from(f.error.is_some()),
            count(f, skipped),
            f.cases.iter().map(|c| c.seconds).sum::<f64>(),
            esc(&f.path.display().to_string()),
        ));
        if let Some(e) = &f.error {
            x.push_str(&format!("    <testcase name=\"(load)\" classname=\"{}\" time=\"0\">\n", esc(&f.name)));
            x.push_str(&format!("      <error message=\"{}\">{}</error>\n", esc(&e.message), esc(&e.to_string())));
            x.push_str("    </testcase>\n");
        }
        for c in &f.cases {
            x.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\" file=\"{}\" line=\"{}\"",
                esc(&c.name),
                esc(&f.name),
                c.seconds,
                esc(&f.path.display().to_string()),
                c.line
            ));
            match &c.status {
                Status::Passed => x.push_str("/>\n"),
                Status::Failed { message, details, .. } => {
                    x.push_str(">\n");
                    x.push_str(&format!("      <failure message=\"{}\">{}</failure>\n", esc(message), esc(details)));
                    x.push_str("    </testcase>\n");
                }
                Status::Skipped(why) => {
                    x.push_str(">\n");
                    x.push_str(&format!("      <skipped message=\"{}\"/>\n", esc(why)));
                    x.push_str("    </testcase>\n");
                }
            }
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}
