//! Slurm's compressed host lists (`gpu[01-03,07],login1`) expanded into host names, as
//! `scontrol show hostnames` prints them.

/// The hosts of `list`, in order; several bracket groups multiply (`r[1-2]n[1-2]`: r1n1,
/// r1n2, r2n1, r2n2), and ranges keep their zero padding.
pub fn expand(list: &str) -> Vec<String> {
    let mut hosts = Vec::new();
    for item in split_top(list.trim()) {
        let mut names = vec![String::new()];
        let mut rest = item;
        while let Some(open) = rest.find('[') {
            let Some(close) = rest[open..].find(']').map(|c| open + c) else {
                break;
            };
            let prefix = &rest[..open];
            let choices = ranges(&rest[open + 1..close]);
            names = names
                .iter()
                .flat_map(|n| choices.iter().map(move |c| format!("{n}{prefix}{c}")))
                .collect();
            rest = &rest[close + 1..];
        }
        hosts.extend(
            names
                .into_iter()
                .map(|n| n + rest)
                .filter(|n| !n.is_empty()),
        );
    }
    hosts
}

/// The comma-separated items of a host list, commas inside brackets kept.
fn split_top(list: &str) -> Vec<&str> {
    let (mut items, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in list.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&list[start..]);
    items.into_iter().filter(|s| !s.is_empty()).collect()
}

/// `01-03,07` as `01 02 03 07`; a part that is no range stays as written.
fn ranges(inside: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in inside.split(',') {
        let range = part.split_once('-').and_then(|(a, b)| {
            let (lo, hi) = (a.parse::<u64>().ok()?, b.parse::<u64>().ok()?);
            (lo <= hi && hi - lo < 100_000).then_some((lo, hi, a.len()))
        });
        match range {
            Some((lo, hi, width)) => out.extend((lo..=hi).map(|n| format!("{n:0width$}"))),
            None => out.push(part.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::expand;

    #[test]
    fn lists() {
        assert_eq!(expand("gbnode1"), ["gbnode1"]);
        assert_eq!(
            expand("gpu[01-03,07],login1"),
            ["gpu01", "gpu02", "gpu03", "gpu07", "login1"]
        );
        assert_eq!(expand("r[1-2]n[8-9]"), ["r1n8", "r1n9", "r2n8", "r2n9"]);
        assert_eq!(expand("n[9-11]-ib"), ["n9-ib", "n10-ib", "n11-ib"]);
        assert!(expand("").is_empty());
    }
}
