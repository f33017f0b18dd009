# lib.sh: helpers for the e2e scenarios; sourced by dom0's /init (busybox sh).
#
# A scenario is a shell function sc_NAME that returns 0 on success.  It may
# set R_ROUNDS, R_PAGES, R_DOWNTIME (ms) and R_NOTE for the summary; fail
# "why" records why it failed.  XFAIL_NAME="why" marks a known failure: the
# result is XFAIL when "why" is the scenario's only failure, FAIL when it
# fails otherwise, XPASS when it passes.  The guest is driven through its console:
# guest_cmd writes a line to the pty xenconsoled gives the guest; memtest
# answers with "E2E ..." lines, which xenconsoled logs to
# /var/log/xen/guest-*.log.

GUEST=e2eguest
GUEST_CFG=/tmp/guest.cfg
LOGS=/var/log/xen
E2E_TMP=/tmp/e2e
mkdir -p $E2E_TMP
SHIM=/usr/local/lib/e2e-progress-shim.so
# pages memtest rewrites and checks (16 MiB of the guest's 128)
E2E_PAGES=4096
TAGN=0

log() { echo "E2E-LOG [$(uptime_s)] $*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }
# centiseconds since boot
now_cs() { local u; u=$(cut -d' ' -f1 /proc/uptime); echo "${u%.*}${u#*.}"; }

fail() {
    FAIL_WHY="${FAIL_WHY:+$FAIL_WHY; }$*"
    log "FAIL: $*"
    return 1
}

glog() { cat $LOGS/guest-*.log 2>/dev/null; }

# new_tag: a fresh tag in $TAG (not in a subshell: the counter must stick)
new_tag() { TAGN=$((TAGN + 1)); TAG="${CUR_SC:-x}-$TAGN"; }

# wait_glog PATTERN SECONDS: wait for a guest console line matching PATTERN
wait_glog() {
    local i=0 n=$(($2 * 4))
    while [ $i -lt $n ]; do
        glog | grep -q -- "$1" && return 0
        sleep 0.25
        i=$((i + 1))
    done
    return 1
}

domid_of() { xl domid "$1" 2>/dev/null; }

# guest_cmd LINE: send LINE to the guest's console
guest_cmd() {
    local d tty
    d=$(domid_of $GUEST) || { fail "no domain $GUEST"; return 1; }
    tty=$(xenstore-read /local/domain/$d/console/tty 2>/dev/null)
    [ -n "$tty" ] && [ -c "$tty" ] || { fail "domain $d has no console tty ($tty)"; return 1; }
    printf '%s\n' "$1" > "$tty"
}

# guest_verify [TIMEOUT]: full check of the guest's memory.  Sets
# V_LINE (memtest's answer) and V_GAP (its maxgap_ms).  0 when result=OK.
guest_verify() {
    local tag to=${1:-90} i=0
    new_tag; tag=$TAG
    V_LINE= V_GAP= V_LASTGAP=
    guest_cmd "v $tag" || return 1
    while [ $i -lt $((to * 4)) ]; do
        V_LINE=$(glog | grep -a "E2E verify tag=$tag " | head -n 1)
        [ -n "$V_LINE" ] && break
        # the console may have dropped the line: ask again now and then
        [ $((i % 40)) -eq 39 ] && guest_cmd "v $tag"
        sleep 0.25
        i=$((i + 1))
    done
    [ -n "$V_LINE" ] || { fail "no answer from the guest to verify $tag in ${to}s"; return 1; }
    log "guest: $V_LINE"
    V_GAP=$(echo "$V_LINE" | sed -n 's/.* maxgap_ms=\([0-9]*\).*/\1/p')
    V_LASTGAP=$(echo "$V_LINE" | sed -n 's/.* lastgap_ms=\([0-9]*\).*/\1/p')
    dt_report
    case $V_LINE in
        *" result=OK "*) return 0 ;;
        *) fail "guest memory check failed: $V_LINE"; return 1 ;;
    esac
}

# guest_rate RATE: pages per second the guest rewrites (-1: as fast as it can)
guest_rate() {
    local tag
    new_tag; tag=$TAG
    guest_cmd "r $tag $1" || return 1
    wait_glog "E2E rate tag=$tag " 30 || { fail "guest did not take rate $1"; return 1; }
}

# guest_errors: fails if memtest printed an error line (its continuous
# check, or a verify) since the scenario began
errors_now() { glog | grep -a -c '^E2E ERROR'; }
guest_errors() {
    local n
    n=$(errors_now)
    if [ "$n" -gt "${ERR_BASE:-0}" ]; then
        glog | grep -a '^E2E ERROR' | tail -n $((n - ERR_BASE)) | head -n 5 | sed 's/^/E2E-LOG guest: /'
        fail "the guest reported $((n - ERR_BASE)) memory error(s)"
        return 1
    fi
    return 0
}

# guest_create TYPE RATE: a 128 MiB guest of TYPE (pvh|pv) running memtest
guest_create() {
    local type=$1 rate=$2
    cat > $GUEST_CFG <<EOF
name = "$GUEST"
type = "$type"
kernel = "/root/vmlinuz"
ramdisk = "/root/guest.cpio.gz"
extra = "console=hvc0 rdinit=/init quiet e2e_pages=$E2E_PAGES e2e_rate=$rate"
memory = 128
vcpus = 1
on_crash = "preserve"
EOF
    [ "$type" = pvh ] && [ -n "$E2E_PVH_HAP" ] && echo "hap = $E2E_PVH_HAP" >> $GUEST_CFG
    log "creating a $type guest (rate $rate)"
    xl create $GUEST_CFG > $E2E_TMP/create.log 2>&1 || {
        sed 's/^/E2E-LOG xl: /' $E2E_TMP/create.log | tail -n 20
        fail "xl create ($type) failed"; return 1; }
    wait_glog '^E2E ready' 180 || {
        glog | tail -n 20 | sed 's/^/E2E-LOG guest: /'
        fail "the $type guest did not start memtest in 180 s"; return 1; }
    GUEST_TYPE=$type
    log "guest $type up as domain $(domid_of $GUEST)"
}

# guest_ensure TYPE: a healthy guest of TYPE (reuse it, or make a new one)
guest_ensure() {
    if [ "$GUEST_TYPE" = "$1" ] && domid_of $GUEST >/dev/null; then
        local FAIL_WHY=
        guest_rate 0 && guest_verify 60 && guest_errors && return 0
        log "the $1 guest is not healthy: making a new one"
    fi
    guest_destroy
    guest_create "$1" 0
}

guest_destroy() {
    local d
    for d in $(xl list 2>/dev/null | awk 'NR > 1 && $2 != 0 { print $1 }'); do
        xl destroy "$d" >/dev/null 2>&1
    done
    GUEST_TYPE=
}

# save_stats LOG MEM_MIB: rounds and pages of the last save, from
# libxenguest's progress lines ("Frames iteration N: X/Y  P%" for a live
# save, the sender's lines through the shim; "Frames: X/Y" for a non-live
# one), the final stop-and-copy round included.  Y of the first round (and
# of a non-live save) counts every pfn up to the highest, holes too; the
# pages it sends are the guest's populated ones, so pages = the domain's
# memory (MEM_MIB, from xl list before the save) + the Y of the later rounds.
save_stats() {
    local mem=$2
    R_ROUNDS=$(tr '\r' '\n' < "$1" | sed -n -e 's/.*Frames iteration \([0-9]*\).*/\1/p' \
        -e 's/.*Frames: [0-9]*\/.*/nonlive/p' | sort -u | wc -l)
    R_PAGES=$(tr '\r' '\n' < "$1" | awk -v first=$((${mem:-0} * 256)) '
        /Frames iteration [0-9]+:/ {
            match($0, /Frames iteration [0-9]+/); it = substr($0, RSTART + 17, RLENGTH - 17)
            if (it != 0 && match($0, /\/[0-9]+/)) tot[it] = substr($0, RSTART + 1, RLENGTH - 1)
        }
        END { s = first; for (i in tot) s += tot[i]; print s }')
}

# debug-key q: "paging assistance: ... log_dirty ..." for DOMID?  Prints
# on or off (a paging-assistance line without log_dirty).  The dump has a
# domain line ("hap refcounts log_dirty translate external") and one per
# vcpu ("hap, 4 levels" / "shadowed 4-on-4"); only the first counts.  When
# no such line for DOMID is found (no dump, a dump cut short, no such
# domain) it prints "unknown", says why and returns 1: a probe that cannot
# see the state must not read as "off".
logdirty_state() {
    local st
    xl dmesg -c > /dev/null 2>&1
    xl debug-keys q > /dev/null 2>&1
    sleep 1
    st=$(xl dmesg 2>/dev/null | awk -v d="$1" '
        /General information for domain/ { cur = ($0 ~ ("domain " d ":")) }
        cur && /paging assistance:/ && !/levels|shadowed/ { st = ($0 ~ /log_dirty/) ? "on" : "off" }
        END { print (st == "" ? "unknown" : st) }')
    echo "$st"
    [ "$st" != unknown ] && return 0
    log "logdirty_state: no 'paging assistance' line for domain $1 in Xen's debug-key q dump"
    return 1
}

# await_logdirty_on DOMID PID: probe until log-dirty is seen on for DOMID
# while PID (a migration) runs.  0 when seen; sets LD_ON.
await_logdirty_on() {
    local i=0
    LD_ON=
    while [ $i -lt 40 ] && kill -0 "$2" 2>/dev/null; do
        LD_ON=$(logdirty_state "$1")
        [ "$LD_ON" = on ] && return 0
        i=$((i + 1))
    done
    fail "log-dirty never seen on during the migration (last probe: ${LD_ON:-none}): the probe does not work"
}

# pid of the running libxl-save-helper with --save-domain (the sender).
# One ps and one awk: a tr and a grep per process took 10 to 20 s a call
# under TCG on a loaded host.
save_helper_pid() {
    ps -o pid,args | awk '$2 ~ /libxl-save-helper$/ && $3 == "--save-domain" { print $1; found = 1; exit }
                          END { exit !found }'
}

# The receiving side of a localhost migration: with -s '' xl runs the
# "host" argument with sh -c and talks to it over its stdin/stdout.  (Any
# extra stage in that pipe, e.g. to count bytes, slows the migration down
# several times under TCG.)
RECV="xl migrate-receive"

# guest_crashed DOMID: say so when the guest itself died (Xen saw a triple
# fault, or its kernel panicked), which makes a save fail from the outside
guest_crashed() {
    if xl dmesg 2>/dev/null | grep -q "d$1v[0-9]* Triple fault" || \
       glog | grep -a -q 'Kernel panic'; then
        fail "the guest crashed while running at the source (domain $1: triple fault or kernel panic)"
    fi
    return 0
}

# xl_migrate [XL OPTIONS]: the one way the scenarios run the sending
# xl: localhost, receiver $RECV (or $RECV_CMD, a scenario's own), output in
# $E2E_TMP/migrate.log.  It runs in the foreground; with MIG_BG=1 in the
# background ($MIG_PID; then call mig_done RC when it ended).  -vvv: libxl
# logs each policy consultation ("precopy: round N, ..."), which counts
# them; a sampler reads the sending xl's own CPU time (/proc/PID/stat,
# utime + stime) every second while it runs.
xl_migrate() {
    local a
    MIG_TARGET=- MIG_D0=$(domid_of $GUEST)
    for a in "$@"; do
        [ "$MIG_TARGET" = next ] && MIG_TARGET=$a
        [ "$a" = --downtime ] && MIG_TARGET=next
    done
    [ "$MIG_TARGET" = next ] && MIG_TARGET=-
    MIG_MEM=$(xl list $MIG_D0 2>/dev/null | awk 'NR == 2 { print $3 }')
    MIG_T0=$(now_cs)
    rm -f $E2E_TMP/migrate.cpu
    # MIG_SETSID=1: in a session and process group of its own, SIGINT and
    # SIGHUP not ignored, as a terminal's foreground job (its pid is the
    # group's id), so that a signal can go to the whole group
    LD_PRELOAD=$SHIM ${MIG_SETSID:+e2e-session} xl -vvv migrate "$@" -s '' $GUEST "${RECV_CMD:-$RECV}" > $E2E_TMP/migrate.log 2>&1 &
    MIG_PID=$!
    cpu_sampler $MIG_PID $E2E_TMP/migrate.cpu &
    [ -n "$MIG_BG" ] && return 0
    wait $MIG_PID
    mig_done $?
    return $MIG_RC
}

# cpu_sampler PID FILE: PID's CPU time so far (ms) in FILE, each second
cpu_sampler() {
    local v
    while v=$(awk '{ printf "%d", ($14 + $15) * 10 }' /proc/$1/stat 2>/dev/null) && [ -n "$v" ]; do
        echo "$v" > $2.new && mv $2.new $2
        sleep 1
    done
}

# mig_done RC: after a migration: its figures.  MIG_PRED = the engine's
# last predicted downtime (xl's last per-round line; - if none); the
# number of consultations and the sending xl's CPU time per consultation
# (an upper bound of a consultation's cost on xl's side: in precopy xl
# does little else than answer them and pass on the helper's log).  The
# e2e-downtime line follows at the next guest_verify (the measured stall),
# with the pause both hosts measured: MIG_SENDER (libxl: the suspend
# request to the stream's end), MIG_RECV (xl: from there to the receiver's
# report that the domain runs) and MIG_COUNTED (the switchover the policy
# counted).
mig_done() {
    local cpu n
    MIG_RC=$1
    MIG_T1=$(now_cs)
    MIG_PRED=$(grep -a '^migration sender: round ' $E2E_TMP/migrate.log | tail -n 1 |
        sed -n 's/.* downtime \([0-9]*\)ms: .*/\1/p')
    MIG_PRED=${MIG_PRED:--}
    MIG_RECV=$(sed -n 's/^migration sender: the receiver started the domain \([0-9]*\)ms after.*/\1/p' $E2E_TMP/migrate.log | tail -n 1)
    MIG_SENDER=$(sed -n 's/.*precopy: switchover on this host: .* paused \([0-9]*\)ms to the stream.*/\1/p' $E2E_TMP/migrate.log | tail -n 1)
    MIG_COUNTED=$(sed -n 's/.*precopy: switchover on this host: .*(the policy counted \([0-9]*\)ms for.*/\1/p' $E2E_TMP/migrate.log | tail -n 1)
    # the guest's suspend, which libxl logs but does not learn (patch 29)
    MIG_SUSPEND=$(sed -n 's/.*precopy: switchover on this host: suspend \([0-9]*\)ms.*/\1/p' $E2E_TMP/migrate.log | tail -n 1)
    case "$MIG_SUSPEND" in
    ''|*[!0-9]*) MIG_SUSPEND=- ;;
    *) [ $MIG_SUSPEND -le ${GUEST_SUSPEND_MAX:-0} ] || GUEST_SUSPEND_MAX=$MIG_SUSPEND ;;
    esac
    MIG_RECV=${MIG_RECV:--} MIG_SENDER=${MIG_SENDER:--} MIG_COUNTED=${MIG_COUNTED:--}
    n=$(grep -a -c 'precopy: round [0-9]*, ' $E2E_TMP/migrate.log)
    cpu=$(cat $E2E_TMP/migrate.cpu 2>/dev/null)
    MIG_CONSULT=$n MIG_CONS_US=-
    if [ "${n:-0}" -gt 0 ] && [ -n "$cpu" ]; then
        MIG_CONS_US=$((cpu * 1000 / n))
        log "e2e-consult: scenario ${CUR_SC:-?} $n consultations, sending xl CPU ${cpu} ms, at most $MIG_CONS_US us each"
    fi
    MIG_PENDING=1
}

# learnt_file [HOST]: the file in which xl keeps what it learnt of the
# switchover to HOST (default: $RECV), as xl names it (patch 35): the
# host with each space written %20 (the hosts the scenarios use have no
# other character that xl escapes).
LEARNT_DIR=/var/lib/xen/xl/precopy-switchover
learnt_file() {
    printf '%s/%s\n' $LEARNT_DIR "$(printf '%s' "${1:-$RECV}" | sed 's/ /%20/g')"
}

# switchover_learnt SHARE [HOST]: what xl counts of SHARE (sender or
# receiver) of the switchover to HOST: the median of the measurements its
# file lists (the longer middle one of an even number).  Fails if there
# is no file or it lists none.
switchover_learnt() {
    sed -n "s/^$1 //p" "$(learnt_file "$2")" 2>/dev/null | tr ' ' '\n' |
        grep -x '[0-9][0-9]*' | sort -n |
        awk '{ v[NR] = $1 } END { if (!NR) exit 1; print v[int(NR / 2) + 1] }'
}

# dt_report: the e2e-downtime line of the last migration, once, with the
# stall the guest measured (V_GAP of the verify after it); and the
# scenario's predicted/measured lists for the summary table.
dt_report() {
    [ -n "$MIG_PENDING" ] || return 0
    MIG_PENDING=
    # both hosts' pause, and what the guest stood still beyond it: its
    # own resume once unpaused, which neither host sees: GUEST_RESUME_MAX
    # the most it took in this VM, over GUEST_RESUME_N migrations
    MIG_HOSTS=- MIG_GUEST=-
    case "$MIG_SENDER$MIG_RECV${V_GAP:--}" in
    *[!0-9]*) ;;
    *)  MIG_HOSTS=$((MIG_SENDER + MIG_RECV)) MIG_GUEST=$((V_GAP - MIG_SENDER - MIG_RECV))
        [ $MIG_GUEST -ge 0 ] || MIG_GUEST=0
        GUEST_RESUME_N=$((${GUEST_RESUME_N:-0} + 1))
        [ $MIG_GUEST -le ${GUEST_RESUME_MAX:-0} ] || GUEST_RESUME_MAX=$MIG_GUEST ;;
    esac
    echo "e2e-downtime: scenario ${CUR_SC:-?} target $MIG_TARGET ms predicted $MIG_PRED ms measured ${V_GAP:--} ms; paused by the hosts $MIG_HOSTS ms (sender $MIG_SENDER, receiver $MIG_RECV), the guest's own resume $MIG_GUEST ms, switchover counted $MIG_COUNTED ms"
    DT_PRED="${DT_PRED:+$DT_PRED,}$MIG_PRED" DT_MEAS="${DT_MEAS:+$DT_MEAS,}${V_GAP:--}"
}

# migrate [XL OPTIONS]: a migration that must succeed: new domain, no
# --incoming domain left.
migrate() {
    local old new
    old=$(domid_of $GUEST)
    xl_migrate "$@"
    # each round's size and time, as libxenguest reports them at 100%
    tr '\r' '\n' < $E2E_TMP/migrate.log | grep -a -E 'Frames iteration [0-9]+: [0-9]+/[0-9]+ +100%|suspended' \
        | sed 's/^/E2E-LOG xl: /'
    save_stats $E2E_TMP/migrate.log $MIG_MEM
    new=$(domid_of $GUEST)
    if [ $MIG_RC -ne 0 ]; then
        grep -a -v 'libxl: debug: ' $E2E_TMP/migrate.log | sed 's/^/E2E-LOG xl: /' | tail -n 25
        guest_crashed $old
        fail "xl migrate exited with $MIG_RC"; return 1
    fi
    [ -n "$new" ] && [ "$new" != "$old" ] || { fail "after migrate: domain id $old -> '$new'"; return 1; }
    xl list | grep -q -- '--incoming' && { fail "a --incoming domain is left"; return 1; }
    log "migrated: domain $old -> $new, $R_ROUNDS rounds, $R_PAGES pages, $(((MIG_T1 - MIG_T0) / 100)) s"
    return 0
}

# run_scenarios [NAME...]: each scenario of the table (or the named ones)
run_scenarios() {
    local name want t0 t1 res line xf
    for name in $SCENARIOS; do
        if [ $# -gt 0 ]; then
            want=0
            for line in "$@"; do [ "$line" = "$name" ] && want=1; done
            [ $want = 1 ] || continue
        fi
        CUR_SC=$name R_ROUNDS=- R_PAGES=- R_DOWNTIME=- R_NOTE= FAIL_WHY=
        DT_PRED= DT_MEAS= MIG_PENDING= RECV_CMD= MIG_BG= MIG_SETSID=
        ERR_BASE=$(errors_now)
        echo "E2E-BEGIN $name"
        t0=$(now_cs)
        if sc_$name; then res=PASS; else res=FAIL; fi
        t1=$(now_cs)
        # a known failure: the scenario's one failure is the known one
        eval "xf=\${XFAIL_$name:-} xo=\${XFAIL_ONLY_IF_$name:-}"
        if [ -n "$xf" ]; then
            if [ $res = FAIL ] && [ "$FAIL_WHY" = "$xf" ]; then
                res=XFAIL FAIL_WHY="known failure: $xf${R_NOTE:+ ($R_NOTE)}"
            elif [ $res = PASS ] && [ -z "$xo" ]; then
                res=XPASS R_NOTE="passes now: drop XFAIL_$name${R_NOTE:+; $R_NOTE}"
            fi
        fi
        [ $res = FAIL ] && {
            echo "E2E-LOG ---- guest console (last lines)"
            glog | tail -n 15 | sed 's/^/E2E-LOG guest: /'
            echo "E2E-LOG ---- xen (last lines)"
            xl dmesg 2>/dev/null | tail -n 15 | sed 's/^/E2E-LOG xen: /'
        }
        # downtime: the scenario's own figure, else each migration's stall
        [ "$R_DOWNTIME" = - ] && [ -n "$DT_MEAS" ] && R_DOWNTIME=$DT_MEAS
        echo "E2E-RESULT|$name|$res|$(((t1 - t0) / 100))|$R_ROUNDS|$R_PAGES|$R_DOWNTIME|${DT_PRED:--}|${FAIL_WHY:-$R_NOTE}"
    done
    guest_destroy
}
