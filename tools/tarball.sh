# tarball.sh: helpers for Xen source tarballs, sourced by tools/xen-tree and
# tools/legacy-tree.  They use the sourcing script's say and die.
# shellcheck shell=bash

# The uncompressed bytes of a tarball.
tar_cat() {
    case $1 in
        *.xz|*.txz) xz -dc "$1" ;;
        *.gz|*.tgz) gzip -dc "$1" ;;
        *.bz2|*.tbz2) bzip2 -dc "$1" ;;
        *.zst) zstd -dc "$1" ;;
        *) cat "$1" ;;
    esac
}

# A tarball beside a SHA256SUMS which lists it must match it.
verify_tarball() {
    local tar=$1 sums want got
    sums=$(dirname "$tar")/SHA256SUMS
    [[ -f $sums ]] || return 0
    want=$(awk -v f="$(basename "$tar")" '{ n = $2; sub(/^\*/, "", n) } n == f { print $1 }' "$sums")
    [[ -n $want ]] || return 0
    got=$(sha256sum < "$tar" | cut -d' ' -f1)
    [[ $got == "$want" ]] || die "sha256 mismatch for $tar: $sums says $want, the file has $got"
    say "sha256 ok: $(basename "$tar") (as $sums says)"
}

# A tarball for XEN_SRC?
src_is_tarball() {
    [[ -f $1 ]] && case $1 in *.tar|*.tar.*|*.tgz|*.txz|*.tbz2) true ;; *) false ;; esac
}
