# scenarios.sh: the e2e scenarios; sourced by dom0's /init after lib.sh.
#
# To add one: write sc_NAME (returns 0 on success; see lib.sh for helpers
# and the R_* summary variables) and add NAME to SCENARIOS.  Scenarios run
# in this order in one VM; each calls guest_ensure TYPE first, which reuses
# the running guest when it is healthy.
#
# Guest write rates (pages/s): idle 0, moderate, busy -1 (as fast as the
# guest can; far faster than the emulated link can send).
RATE_IDLE=0
RATE_MODERATE=1000
RATE_BUSY=-1
# xl migrate options for a precopy that does not end by itself: without
# --dirty-target the engine keeps the default rule's 50 pages, and a busy
# guest on a loaded host can dirty fewer than that in a short round (seen
# on master: "round 5: 57 pages sent, 33 dirty: stop and copy (dirty
# target reached)" before migrate-ctl's request came).  A busy guest always
# dirties at least 1 page a round.
NEVER_ENDS="--max-rounds 100000 --dirty-target 1"

# Known failures (see run_scenarios in lib.sh), with what is missing: none.
# (pvh_kill_save_helper was one until patch 8 of the series made libxl turn
# log-dirty off when libxl-save-helper dies.)

SCENARIOS="
selftest
xl_help
pvh_migrate
pvh_save_restore
pvh_bad_input
ctl_errors
pvh_opt_max_rounds
pvh_opt_dirty_target
pvh_opt_max_factor
pvh_opt_downtime
pvh_opt_timeout_switchover
pvh_opt_timeout_abort
pvh_abort_if_busy
pvh_ctl_abort
pvh_ctl_switchover
pvh_ctl_downtime
pvh_migrate_busy_x10
pvh_kill_save_helper
pv_migrate
pv_save_restore
"

# The checker's own test: a page put back to its previous content (stale)
# and a flipped bit (corrupt) must each make a verify FAIL.
sc_selftest() {
    local kind tag line
    guest_ensure pvh || return 1
    for kind in stale corrupt; do
        new_tag; tag=$TAG
        guest_cmd "x $tag $kind" || return 1
        wait_glog "E2E repaired tag=$tag " 60 || { fail "no answer to inject $kind"; return 1; }
        line=$(glog | grep -a "E2E verify tag=$tag " | head -n 1)
        log "guest: $line"
        case $line in
            *" result=FAIL "*" bad=1 "*|*" result=FAIL "*) ;;
            *) fail "an injected $kind page was not detected: $line"; return 1 ;;
        esac
    done
    guest_verify && R_NOTE="stale and corrupt pages detected"
}

# one default live migration at RATE; downtime = the guest's longest stall
migrate_once() {
    guest_ensure $1 && guest_rate $2 || return 1
    sleep 2
    migrate || return 1
    guest_verify || return 1
    R_DOWNTIME=$V_GAP
    guest_errors
}

# one xl save + xl restore at RATE
save_restore() {
    local f=/var/lib/xen/e2e.save d mem
    guest_ensure $1 && guest_rate $2 || return 1
    sleep 2
    rm -f $f
    d=$(domid_of $GUEST)
    mem=$(xl list $d | awk 'NR == 2 { print $3 }')
    xl save $GUEST $f > $E2E_TMP/save.log 2>&1 || {
        sed 's/^/E2E-LOG xl: /' $E2E_TMP/save.log | tail -n 20
        fail "xl save failed"; return 1; }
    R_ROUNDS=1 R_PAGES=$((mem * 256))
    domid_of $GUEST > /dev/null && { fail "the guest still exists after xl save"; return 1; }
    log "saved: $(ls -l $f | awk '{ print $5 }') bytes, domain of $mem MiB"
    xl restore $f > $E2E_TMP/restore.log 2>&1 || {
        sed 's/^/E2E-LOG xl: /' $E2E_TMP/restore.log | tail -n 20
        fail "xl restore failed"; return 1; }
    rm -f $f
    guest_verify || return 1
    R_NOTE="guest stood still ${V_GAP} ms (save to restore)"
    guest_errors
}

sc_pvh_migrate()     { migrate_once pvh $RATE_MODERATE; }
sc_pvh_save_restore() { save_restore pvh $RATE_MODERATE; }
sc_pv_migrate()      { migrate_once pv $RATE_BUSY; }
sc_pv_save_restore() { save_restore pv $RATE_IDLE; }

# 10 live migrations in a row of a busy guest, memory checked after each
sc_pvh_migrate_busy_x10() {
    local i=1 rounds=0 pages=0 maxdt=0 list=
    guest_ensure pvh && guest_rate $RATE_BUSY || return 1
    while [ $i -le 10 ]; do
        sleep 1
        migrate || { fail "migration $i of 10"; return 1; }
        guest_verify || { fail "after migration $i of 10"; return 1; }
        rounds=$((rounds + R_ROUNDS)) pages=$((pages + R_PAGES))
        [ "${V_GAP:-0}" -gt $maxdt ] && maxdt=$V_GAP
        list="$list $R_ROUNDS"
        i=$((i + 1))
    done
    R_ROUNDS=$rounds R_PAGES=$pages R_DOWNTIME=$maxdt
    R_NOTE="10 migrations; rounds each:$list; downtime = worst"
    guest_errors
}

# guest_kept_at_source D0: after a migration that failed, the guest is
# still domain D0 and running, and no half-made --incoming domain is left.
guest_kept_at_source() {
    local state
    sleep 2
    [ "$(domid_of $GUEST)" = "$1" ] || { fail "the guest is not domain $1 any more: $(xl list | tr '\n' ' ')"; return 1; }
    xl list | grep -q -- '--incoming' && { fail "a --incoming domain is left: $(xl list | tr '\n' ' ')"; return 1; }
    state=$(xl list $GUEST | awk 'NR == 2 { print $5 }')
    case $state in
        *p*|*s*|*c*|*d*) fail "the guest is in state $state, not running"; return 1 ;;
    esac
}

# Kill the sending libxl-save-helper during precopy.  Expected: xl migrate
# fails, the guest runs on at the source (same domain, not paused) with its
# memory intact, no half-made domain is left, log-dirty is off again, and a
# later migration works.  Log-dirty is read from Xen's own dump of the
# domain (debug-key q: "paging assistance: ... log_dirty"); the probe is
# first shown to see it on during the migration.
sc_pvh_kill_save_helper() {
    local d0 pid= xlpid rc st= i round
    guest_ensure pvh && guest_rate $RATE_BUSY || return 1
    d0=$(domid_of $GUEST)
    st=$(logdirty_state $d0)
    [ "$st" = off ] || { fail "log-dirty is $st before the migration"; return 1; }
    LD_PRELOAD=$SHIM xl migrate -s '' $GUEST "$RECV" > $E2E_TMP/migrate.log 2>&1 &
    xlpid=$!
    i=0
    while [ $i -lt 240 ] && [ -z "$pid" ]; do
        pid=$(save_helper_pid) || sleep 0.25
        i=$((i + 1))
    done
    [ -n "$pid" ] || { fail "no libxl-save-helper --save-domain appeared"; wait $xlpid; return 1; }
    i=0
    while [ $i -lt 30 ]; do
        st=$(logdirty_state $d0)
        [ "$st" = on ] && break
        i=$((i + 1))
    done
    if [ "$st" != on ]; then
        fail "log-dirty never seen on during the migration: the probe does not work"
        kill -9 $pid 2>/dev/null; wait $xlpid; return 1
    fi
    if grep -q 'Domain now suspended' $E2E_TMP/migrate.log; then
        fail "the guest was already suspended: too late to test a kill in precopy"
        wait $xlpid; return 1
    fi
    round=$(tr '\r' '\n' < $E2E_TMP/migrate.log | sed -n 's/.*Frames iteration \([0-9]*\).*/\1/p' | tail -n 1)
    kill -9 $pid || { fail "could not kill the save helper $pid"; wait $xlpid; return 1; }
    log "killed libxl-save-helper $pid in precopy round ${round:-?}"
    wait $xlpid
    rc=$?
    sed 's/^/E2E-LOG xl: /' $E2E_TMP/migrate.log | grep -v 'Frames iteration' | tail -n 12
    [ $rc -ne 0 ] || { fail "xl migrate reported success although its helper was killed"; return 1; }
    guest_kept_at_source $d0 || return 1
    guest_verify || return 1
    guest_errors || return 1
    st=$(logdirty_state $d0)
    R_NOTE="killed in round ${round:-?}; log-dirty after: $st"
    migrate || { fail "the next migration failed"; return 1; }
    guest_verify || return 1
    guest_errors || return 1
    # last, so that a known failure here does not hide the checks above
    [ "$st" = off ] || { fail "log-dirty is still on after the failed migration"; return 1; }
}

# --- the precopy policy through xl (patches 9-10 of the series) ---------

# the per-round lines xl printed in the last migrate
rounds_log() { grep -a '^migration sender: round ' $E2E_TMP/migrate.log; }
last_round() { rounds_log | tail -n 1; }

# expect_reason TEXT: the last round line ends with TEXT
expect_reason() {
    local l
    l=$(last_round)
    rounds_log | sed 's/^/E2E-LOG xl: /'
    case $l in
        *"$1") R_NOTE="last: ${l#migration sender: }" ;;
        *) fail "the last round line is not '...$1': '$l'"; return 1 ;;
    esac
}

# migrate_aborted ARGS...: xl migrate ARGS on the running guest must fail
# saying it was aborted as requested, and leave the guest running here
# with its memory intact.
migrate_aborted() {
    local d0 rc
    d0=$(domid_of $GUEST)
    LD_PRELOAD=$SHIM xl migrate "$@" -s '' $GUEST "$RECV" > $E2E_TMP/migrate.log 2>&1
    rc=$?
    check_aborted $d0 $rc
}

check_aborted() {
    local d0=$1 rc=$2
    grep -a -v 'Frames iteration' $E2E_TMP/migrate.log | tail -n 8 | sed 's/^/E2E-LOG xl: /'
    [ $rc -ne 0 ] || { fail "xl migrate succeeded"; return 1; }
    grep -q 'Migration aborted as requested; the domain is still running here' \
        $E2E_TMP/migrate.log || { fail "xl did not say the migration was aborted as requested"; return 1; }
    guest_kept_at_source $d0 || return 1
    [ "$(logdirty_state $d0)" = off ] || { fail "log-dirty is still on"; return 1; }
    guest_verify && guest_errors
}

# xl help: the options are documented (and the text goes to the log)
sc_xl_help() {
    xl help migrate > $E2E_TMP/help.txt 2>&1
    sed 's/^/E2E-LOG help: /' $E2E_TMP/help.txt
    grep -q -- '--downtime <ms>' $E2E_TMP/help.txt &&
        grep -q -- '--abort-if-busy' $E2E_TMP/help.txt &&
        xl help 2>&1 | grep -q '^ migrate-ctl' ||
        { fail "xl help lacks the precopy options or migrate-ctl"; return 1; }
    R_NOTE="options and migrate-ctl listed"
}

# bad input is refused with one line, before anything starts
sc_pvh_bad_input() {
    local d0 a n=0
    guest_ensure pvh && guest_rate $RATE_MODERATE || return 1
    d0=$(domid_of $GUEST)
    for a in "--downtime 0" "--max-rounds -1" "--max-factor abc" \
             "--timeout-action abort" "--max-rounds 5 --max_iters 6" \
             "--dirty-target 99999999999999999999"; do
        # shellcheck disable=SC2086
        xl migrate $a -s '' $GUEST "$RECV" > $E2E_TMP/bad.log 2>&1 &&
            { fail "accepted: $a"; return 1; }
        log "refused '$a': $(head -n 1 $E2E_TMP/bad.log)"
        [ "$(wc -l < $E2E_TMP/bad.log)" -eq 1 ] ||
            { fail "'$a': not one line: $(tr '\n' '|' < $E2E_TMP/bad.log)"; return 1; }
        save_helper_pid > /dev/null && { fail "'$a': a save helper started"; return 1; }
        n=$((n + 1))
    done
    [ "$(domid_of $GUEST)" = "$d0" ] || { fail "the guest moved"; return 1; }
    xl list | grep -q -- '--incoming' && { fail "a --incoming domain appeared"; return 1; }
    guest_verify && guest_errors && R_NOTE="$n bad inputs refused, guest untouched"
}

opt_migrate() {   # RATE REASON ARGS...
    local rate=$1 reason=$2
    shift 2
    guest_ensure pvh && guest_rate $rate || return 1
    sleep 1
    migrate "$@" || return 1
    guest_verify || return 1
    R_DOWNTIME=$V_GAP
    expect_reason "$reason" && guest_errors
}
sc_pvh_opt_max_rounds() {
    opt_migrate $RATE_BUSY "(round limit)" --max-rounds 2 || return 1
    # rounds 0 and 1 were live: the last line is round 1's
    case $(last_round) in
        "migration sender: round 1: "*) ;;
        *) fail "the last round line is not round 1's: '$(last_round)'"; return 1 ;;
    esac
}
sc_pvh_opt_dirty_target() { opt_migrate $RATE_BUSY "(dirty target reached)" --dirty-target 1000000; }
sc_pvh_opt_max_factor()   { opt_migrate $RATE_BUSY "(data limit)" --max-factor 1.2 $NEVER_ENDS; }
sc_pvh_opt_downtime()     { opt_migrate $RATE_BUSY "(downtime target reached)" --downtime 60000; }
sc_pvh_opt_timeout_switchover() {
    opt_migrate $RATE_BUSY "(timeout)" --timeout 2 --timeout-action switchover $NEVER_ENDS
}

sc_pvh_opt_timeout_abort() {
    guest_ensure pvh && guest_rate $RATE_BUSY || return 1
    sleep 1
    migrate_aborted --timeout 2 $NEVER_ENDS || return 1
    R_NOTE="aborted at the timeout, guest kept"
}

# abort-if-busy on a guest that can't converge, then a normal migration
sc_pvh_abort_if_busy() {
    guest_ensure pvh && guest_rate $RATE_BUSY || return 1
    sleep 1
    migrate_aborted --max-rounds 2 --abort-if-busy || return 1
    guest_rate $RATE_BUSY && migrate || { fail "the next normal migration failed"; return 1; }
    guest_verify && guest_errors && R_NOTE="aborted, guest kept; next migration OK"
}

# migrate-ctl from a second process while xl migrate runs
ctl_migrate() {   # COMMAND ARGS...: start a never-ending migration, then ctl
    local cmd=$1 i=0
    shift
    guest_ensure pvh && guest_rate $RATE_BUSY || return 1
    sleep 1
    CTL_D0=$(domid_of $GUEST)
    LD_PRELOAD=$SHIM xl migrate $NEVER_ENDS "$@" -s '' $GUEST "$RECV" \
        > $E2E_TMP/migrate.log 2>&1 &
    CTL_PID=$!
    while [ $i -lt 600 ] && [ "$(rounds_log | wc -l)" -lt 2 ]; do
        sleep 0.25; i=$((i + 1))
    done
    [ "$(rounds_log | wc -l)" -ge 2 ] || { fail "no 2 rounds printed"; kill $CTL_PID; wait $CTL_PID; return 1; }
    log "migrate-ctl $GUEST $cmd"
    xl migrate-ctl $GUEST $cmd > $E2E_TMP/ctl.log 2>&1 ||
        { fail "xl migrate-ctl $cmd: $(cat $E2E_TMP/ctl.log)"; kill $CTL_PID; wait $CTL_PID; return 1; }
    wait $CTL_PID
    CTL_RC=$?
}
sc_pvh_ctl_abort() {
    ctl_migrate abort || return 1
    check_aborted $CTL_D0 $CTL_RC || return 1
    expect_reason "abort (requested)"
}
ctl_completes() {
    [ $CTL_RC -eq 0 ] || { tail -n 20 $E2E_TMP/migrate.log | sed 's/^/E2E-LOG xl: /'; fail "xl migrate exited with $CTL_RC"; return 1; }
    [ "$(domid_of $GUEST)" != "$CTL_D0" ] || { fail "the guest did not move"; return 1; }
    guest_verify || return 1
    R_DOWNTIME=$V_GAP
    expect_reason "$1" && guest_errors
}
sc_pvh_ctl_switchover() { ctl_migrate switchover && ctl_completes "(requested)"; }
sc_pvh_ctl_downtime()   { ctl_migrate "downtime 60000" && ctl_completes "(downtime target reached)"; }

# migrate-ctl's errors: no such domain, no migration
sc_ctl_errors() {
    guest_ensure pvh || return 1
    xl migrate-ctl nosuchguest abort > $E2E_TMP/ctl.log 2>&1 && { fail "accepted an unknown domain"; return 1; }
    log "unknown domain: $(head -n 1 $E2E_TMP/ctl.log)"
    xl migrate-ctl $GUEST abort > $E2E_TMP/ctl.log 2>&1 && { fail "accepted a domain not being migrated"; return 1; }
    log "not migrating: $(tail -n 1 $E2E_TMP/ctl.log)"
    grep -q 'is not being migrated' $E2E_TMP/ctl.log || { fail "no clear error: $(cat $E2E_TMP/ctl.log)"; return 1; }
    guest_verify && R_NOTE="both refused with a message"
}
