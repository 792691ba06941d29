#!/usr/bin/env bash
# Regenerates one regency's slice of the gazetteer from the idn-area CSV files.
#
#   extract.sh REGENCY_CODE [IDN_AREA_DIR]      e.g.  extract.sh 33.16
#
# Writes REGENCY_CODE.csv next to this script: a `code,parent_code,name` header, the regency
# itself (parent: its province), its districts (parent: the regency) and their villages
# (parent: their district), each level in code order. IDN_AREA_DIR defaults to the shared copy
# of idn-area-data; the output is ODbL-licensed like its source (see README.md here).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
regency=${1:?usage: extract.sh REGENCY_CODE [IDN_AREA_DIR]}
src=${2:-$here/../../../../shared/data/idn-area}

if [[ ! $regency =~ ^[0-9]{2}\.[0-9]{2}$ ]]; then
    echo "extract.sh: '$regency' is not a regency code like 33.16" >&2
    exit 2
fi
for f in regencies districts villages; do
    if [[ ! -r $src/$f.csv ]]; then
        echo "extract.sh: cannot read $src/$f.csv" >&2
        exit 2
    fi
done

# Byte order, so that sort puts codes in the same order everywhere.
export LC_ALL=C

out=$here/$regency.csv
tmp=$(mktemp "$here/.$regency.csv.XXXXXX")
trap 'rm -f "$tmp"' EXIT

# The awk program tags every output row with its level (0 header, 1 regency, 2 districts,
# 3 villages) so one `sort` yields the file order; `cut` drops the tag again.
awk -v want="$regency" '
    function die(msg) {
        printf "extract.sh: %s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"
        failed = 1
        exit 1
    }

    # Splits one CSV line into f[1..n] and returns n. Names may be quoted, holding commas and
    # doubled quotes (`"Lubuk Pakam I,II"`, `"Ra""as"`), so a plain split on commas would
    # cut them apart. A field spanning lines is not expected in this data; it is rejected
    # rather than silently mangled.
    function parse(line, f,    n, i, c, len, field, state) {
        if (index(line, "\"") == 0)
            return split(line, f, ",")
        n = 0; field = ""; len = length(line)
        state = 0    # 0 field start, 1 unquoted, 2 quoted, 3 after the closing quote
        for (i = 1; i <= len; i++) {
            c = substr(line, i, 1)
            if (state == 2) {
                if (c != "\"") { field = field c; continue }
                if (substr(line, i + 1, 1) == "\"") { field = field "\""; i++; continue }
                state = 3
            } else if (c == ",") {
                f[++n] = field; field = ""; state = 0
            } else if (c == "\"" && state == 0) {
                state = 2
            } else if (c == "\"") {
                die("stray quote in an unquoted field")
            } else if (state == 3) {
                die("text after a closing quote")
            } else {
                field = field c; state = 1
            }
        }
        if (state == 2)
            die("quoted field not closed on its line (multi-line fields are not supported)")
        f[++n] = field
        return n
    }

    function quote(s) {
        if (s !~ /[",]/)
            return s
        gsub(/"/, "\"\"", s)
        return "\"" s "\""
    }

    # True when code is parent followed by one more dot-separated group of digits.
    function child(code, parent,    rest) {
        if (substr(code, 1, length(parent) + 1) != parent ".")
            return 0
        rest = substr(code, length(parent) + 2)
        return rest ~ /^[0-9]+$/
    }

    BEGIN { print "0\tcode,parent_code,name" }

    {
        sub(/\r$/, "")
        file = FILENAME
        sub(/^.*\//, "", file)
        if (FNR == 1) {
            expected = file == "regencies.csv" ? "code,province_code,name" : \
                       file == "districts.csv" ? "code,regency_code,name" : \
                       file == "villages.csv"  ? "code,district_code,name" : ""
            if ($0 != expected)
                die("unexpected header \"" $0 "\" (want \"" expected "\")")
            next
        }
        if (parse($0, f) != 3)
            die("expected 3 fields (code,parent,name)")
        if (f[3] == "")
            die("empty name for " f[1])
    }

    file == "regencies.csv" && f[1] == want {
        if (!child(f[1], f[2]))
            die("regency " f[1] " does not belong to province " f[2])
        print "1\t" f[1] "," f[2] "," quote(f[3])
        regencies++
    }

    file == "districts.csv" && f[2] == want {
        if (!child(f[1], f[2]))
            die("district code " f[1] " does not extend regency code " f[2])
        if (f[1] in district)
            die("district " f[1] " listed twice")
        district[f[1]] = 1
        print "2\t" f[1] "," f[2] "," quote(f[3])
        districts++
    }

    file == "villages.csv" && substr(f[2], 1, length(want) + 1) == want "." {
        if (!child(f[1], f[2]))
            die("village code " f[1] " does not extend district code " f[2])
        if (f[1] in village)
            die("village " f[1] " listed twice")
        village[f[1]] = f[2]
        print "3\t" f[1] "," f[2] "," quote(f[3])
        villages++
    }

    END {
        if (failed)
            exit 1
        if (regencies != 1) {
            printf "extract.sh: regency %s found %d times in regencies.csv\n", want, regencies > "/dev/stderr"
            exit 1
        }
        for (v in village) {
            if (!(village[v] in district)) {
                printf "extract.sh: village %s belongs to unknown district %s\n", v, village[v] > "/dev/stderr"
                exit 1
            }
        }
        printf "extract.sh: %s: %d districts, %d villages\n", want, districts, villages > "/dev/stderr"
    }
' "$src/regencies.csv" "$src/districts.csv" "$src/villages.csv" | sort -t $'\t' -k1,1 -k2,2 | cut -f2- >"$tmp"

# mktemp creates the file private to its owner; the slice is public data.
chmod 644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "extract.sh: wrote $out" >&2
