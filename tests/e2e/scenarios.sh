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

# Known failures (see run_scenarios in lib.sh), with what is missing:
# none.  (pvh_downtime_500 and pvh_downtime_1000, now
# pvh_downtime_plus50 and -plus100, were until the series counted the
# receiver's share of the switchover, patches 20 and 21.)
# pvh_trace_fidelity's negative control has little margin (the helper
# measured the controls 72% to 400% off against a 60% tolerance): in one
# fresh-clone run (ci4) the 200 pages/s trace passed for the 2000 pages/s
# migration.  Known until the replay models a round's fixed cost.
# Since this stop (21) the replay itself is off too, in one rate of each
# of three runs: recording slows the guest (at 2000 pages/s the trace
# held 1021 to 1668 pages where the migration saw 4166; at 200, once,
# 596 against 2518), by more than the 60% tolerance.  Both are the one
# known failure below; the scenario's other checks (trace readable, a cut
# trace refused, the guest's writes in it, memory) fail it as before.
FID_KNOWN="the replay and the real migration are not told apart, or not matched, within the tolerance: recording slows the guest"
XFAIL_pvh_trace_fidelity=$FID_KNOWN
# pvh_downtime_plus50/100: a measured downtime over the target is a
# known failure when the hosts' pause alone exceeded what they learnt by
# more than the budget (TCG's noise; downtime_target)
DT_NOISE="the hosts' pause exceeded their learnt switchover by more than the budget: TCG's noise, not the engine's stop, decided the downtime"
XFAIL_pvh_downtime_plus50=$DT_NOISE
XFAIL_pvh_downtime_plus100=$DT_NOISE
# (a condition, not a known failure of every run: a pass is a PASS)
XFAIL_ONLY_IF_pvh_downtime_plus50=1
XFAIL_ONLY_IF_pvh_downtime_plus100=1
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
pvh_migrate_busy_x5
pvh_kill_save_helper
pvh_kill_xl_sender
pvh_kill_xl_receiver
pvh_downtime_plus50
pvh_downtime_plus100
pvh_ctl_abort_last_round
pvh_second_xl
pvh_signals
pvh_kill_xl_retry
pvh_slow_suspend
pvh_learn_per_destination
pvh_guest_cannot_steer
pvh_trace_fidelity
pvh_auto_converge
pvh_corrupt_control
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

# 5 live migrations in a row of a busy guest, memory checked after each
sc_pvh_migrate_busy_x5() {
    local i=1 rounds=0 pages=0 maxdt=0 list=
    guest_ensure pvh && guest_rate $RATE_BUSY || return 1
    while [ $i -le 5 ]; do
        sleep 1
        migrate || { fail "migration $i of 5"; return 1; }
        guest_verify || { fail "after migration $i of 5"; return 1; }
        rounds=$((rounds + R_ROUNDS)) pages=$((pages + R_PAGES))
        [ "${V_GAP:-0}" -gt $maxdt ] && maxdt=$V_GAP
        list="$list $R_ROUNDS"
        i=$((i + 1))
    done
    R_ROUNDS=$rounds R_PAGES=$pages R_DOWNTIME=$maxdt
    R_NOTE="5 migrations; rounds each:$list; downtime = worst"
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
    local d0 pid= rc st= i round
    guest_ensure pvh && guest_rate $RATE_BUSY || return 1
    d0=$(domid_of $GUEST)
    st=$(logdirty_state $d0)
    [ "$st" = off ] || { fail "log-dirty is $st before the migration"; return 1; }
    MIG_BG=1; xl_migrate; MIG_BG=
    i=0
    while [ $i -lt 240 ] && [ -z "$pid" ]; do
        pid=$(save_helper_pid) || sleep 0.25
        i=$((i + 1))
    done
    [ -n "$pid" ] || { fail "no libxl-save-helper --save-domain appeared"; wait $MIG_PID; return 1; }
    await_logdirty_on $d0 $MIG_PID || { kill -9 $pid 2>/dev/null; wait $MIG_PID; return 1; }
    if grep -q 'Domain now suspended' $E2E_TMP/migrate.log; then
        fail "the guest was already suspended: too late to test a kill in precopy"
        wait $MIG_PID; return 1
    fi
    round=$(tr '\r' '\n' < $E2E_TMP/migrate.log | sed -n 's/.*Frames iteration \([0-9]*\).*/\1/p' | tail -n 1)
    kill -9 $pid || { fail "could not kill the save helper $pid"; wait $MIG_PID; return 1; }
    log "killed libxl-save-helper $pid in precopy round ${round:-?}"
    wait $MIG_PID
    rc=$?
    mig_done $rc
    xl_tail 12
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
    [ "$st" = off ] || { fail "log-dirty is $st after the failed migration"; return 1; }
}

# xl_tail N: the last N lines xl migrate printed, without libxl's debug
# lines and the progress lines
xl_tail() {
    grep -a -v -e 'Frames iteration' -e 'libxl: debug: ' $E2E_TMP/migrate.log | tail -n $1 | sed 's/^/E2E-LOG xl: /'
}

# kill_xl WHICH: SIGKILL the sending xl ("sender") or xl migrate-receive
# ("receiver") during precopy.  Expected either way: the guest runs on at
# the source with its memory intact, log-dirty is off, and a later
# migration works.  The sending xl killed: its helper sees libxl go away
# and aborts the save; the receiver sees the stream end and destroys its
# half-made domain.  The receiver killed: its restore helper, which holds
# the stream, reads on to the end, so the sender sees nothing until the
# end of the stream (a migration that never ends would never notice: the
# migration here stops after 15 rounds); then the receiver's handshake never comes,
# xl migrate fails and resumes the guest here; nothing is left to destroy
# the --incoming domain the killed xl made (on a real migration, on the
# other host): the test destroys it, as an administrator would.
kill_xl() {
    local which=$1 d0 pid= i st left opts=
    guest_ensure pvh && guest_rate $RATE_BUSY || return 1
    d0=$(domid_of $GUEST)
    # the sender: never ends by itself; the receiver: ends by itself (see
    # above), after enough rounds that the kill lands in precopy
    opts="--max-rounds 15 --dirty-target 1"
    [ $which = sender ] && opts=$NEVER_ENDS
    MIG_BG=1; xl_migrate $opts; MIG_BG=
    await_logdirty_on $d0 $MIG_PID || { wait $MIG_PID; return 1; }
    grep -q 'Domain now suspended' $E2E_TMP/migrate.log &&
        { fail "the guest was already suspended: too late"; wait $MIG_PID; return 1; }
    if [ $which = sender ]; then
        pid=$MIG_PID
    else
        # the transport: the sending xl's child, sh -c having exec'd xl
        pid=$(ps -o pid,ppid,args | awk -v p=$MIG_PID '$2 == p && $3 == "xl" && $4 == "migrate-receive" { print $1; exit }')
    fi
    [ -n "$pid" ] || { fail "no $which xl process found"; kill $MIG_PID; wait $MIG_PID; return 1; }
    kill -9 $pid || { fail "could not kill the $which xl $pid"; wait $MIG_PID; return 1; }
    log "killed the $which xl ($pid) in precopy"
    wait $MIG_PID
    mig_done $?
    xl_tail 10
    [ $which = receiver ] && [ $MIG_RC -eq 0 ] && { fail "xl migrate succeeded although its receiver was killed"; return 1; }
    # the receiving side cleans up after a killed sender: give it time
    i=0
    while [ $which = sender ] && [ $i -lt 60 ] && xl list | grep -q -- '--incoming'; do
        sleep 1; i=$((i + 1))
    done
    left=
    if [ $which = receiver ] && xl list | grep -q -- '--incoming'; then
        left="its --incoming domain left (no receiver to destroy it), destroyed"
        log "a --incoming domain is left, as expected with its xl killed: destroying it"
        xl destroy $GUEST--incoming
    fi
    guest_kept_at_source $d0 || return 1
    guest_verify || return 1
    guest_errors || return 1
    st=$(logdirty_state $d0)
    [ "$st" = off ] || { fail "log-dirty is $st after the killed migration"; return 1; }
    guest_rate $RATE_BUSY && migrate || { fail "the next migration failed"; return 1; }
    guest_verify && guest_errors || return 1
    R_NOTE="guest kept, log-dirty off${left:+, $left}; next migration OK"
}
sc_pvh_kill_xl_sender()   { kill_xl sender; }
sc_pvh_kill_xl_receiver() { kill_xl receiver; }

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
# with its memory intact; log-dirty is first seen on during precopy.
migrate_aborted() {
    local d0
    d0=$(domid_of $GUEST)
    MIG_BG=1; xl_migrate "$@"; MIG_BG=
    await_logdirty_on $d0 $MIG_PID || { wait $MIG_PID; return 1; }
    wait $MIG_PID
    mig_done $?
    check_aborted $d0 $MIG_RC
}

check_aborted() {
    local d0=$1 rc=$2 st
    xl_tail 8
    [ $rc -ne 0 ] || { fail "xl migrate succeeded"; return 1; }
    grep -q 'Migration aborted as requested; the domain is still running here' \
        $E2E_TMP/migrate.log || { fail "xl did not say the migration was aborted as requested"; return 1; }
    guest_kept_at_source $d0 || return 1
    st=$(logdirty_state $d0)
    [ "$st" = off ] || { fail "log-dirty is $st after the abort"; return 1; }
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
    # long enough for the log-dirty probe (1 to 2 s a look) to see it on
    migrate_aborted --timeout 8 $NEVER_ENDS || return 1
    R_NOTE="aborted at the timeout, guest kept"
}

# abort-if-busy on a guest that can't converge; then towards a downtime
# target it can't reach (1 ms) with a limit of 12 rounds, which is what
# ends it (patch 28), not the stall rule (which gives up at most 6 rounds
# after the best prediction: at round 6 in a run here, the best at round
# 3); then a normal migration
sc_pvh_abort_if_busy() {
    local l
    guest_ensure pvh && guest_rate $RATE_BUSY || return 1
    sleep 1
    migrate_aborted --max-rounds 2 --abort-if-busy || return 1
    migrate_aborted --downtime 1 --max-rounds 12 --abort-if-busy || return 1
    expect_reason "abort (round limit)" || return 1
    l=$(last_round)
    case $l in
        "migration sender: round 11: "*) ;;
        *) fail "the last round line is not round 11's: '$l'"; return 1 ;;
    esac
    guest_rate $RATE_BUSY && migrate || { fail "the next normal migration failed"; return 1; }
    guest_verify && guest_errors && R_NOTE="aborted at 2 rounds, and at 12 with --downtime 1, guest kept; next migration OK"
}

# migrate-ctl from a second process while xl migrate runs
ctl_migrate() {   # COMMAND ARGS...: start a never-ending migration, then ctl
    local cmd=$1 i=0
    shift
    guest_ensure pvh && guest_rate $RATE_BUSY || return 1
    sleep 1
    CTL_D0=$(domid_of $GUEST)
    MIG_BG=1; xl_migrate $NEVER_ENDS "$@"; MIG_BG=
    CTL_PID=$MIG_PID
    while [ $i -lt 600 ] && [ "$(rounds_log | wc -l)" -lt 2 ]; do
        sleep 0.25; i=$((i + 1))
    done
    [ "$(rounds_log | wc -l)" -ge 2 ] || { fail "no 2 rounds printed"; kill $CTL_PID; wait $CTL_PID; return 1; }
    if [ "$cmd" = abort ]; then
        await_logdirty_on $CTL_D0 $CTL_PID || { kill $CTL_PID; wait $CTL_PID; return 1; }
    fi
    log "migrate-ctl $GUEST $cmd"
    xl migrate-ctl $GUEST $cmd > $E2E_TMP/ctl.log 2>&1 ||
        { fail "xl migrate-ctl $cmd: $(cat $E2E_TMP/ctl.log)"; kill $CTL_PID; wait $CTL_PID; return 1; }
    wait $CTL_PID
    CTL_RC=$?
    mig_done $CTL_RC
}
sc_pvh_ctl_abort() {
    ctl_migrate abort || return 1
    check_aborted $CTL_D0 $CTL_RC || return 1
    expect_reason "abort (requested)"
}
ctl_completes() {
    [ $CTL_RC -eq 0 ] || { xl_tail 20; fail "xl migrate exited with $CTL_RC"; return 1; }
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

# --- issue 14: the downtime target, the last round, an untrusted guest ---

# downtime_target BUDGET: the downtime target, held against the guest's
# own measured stall (memtest's maxgap_ms).  Under TCG the switchover
# alone (suspending, the device state, the receiver's restore and unpause,
# the guest's own resume) is 0.5 to 3 s depending on the host's load, so a
# fixed target is either out of reach or met by round 0.  So the target is
# T = X + BUDGET: X the switchover as this VM measured it, BUDGET ms left
# for the memory, fewer than round 0 leaves dirty, so that T needs several
# rounds.  X = what xl learnt of both hosts' shares for this
# destination (learnt_file: the default the policy counts) plus the most the guest's own resume took in this VM (its stall
# beyond both hosts' pause, which neither host sees: given with
# --switchover-ms, as a user who knows it would; learnt as libxl learns
# the hosts' shares instead, it left 14 ms of margin in an idle run, T 857
# and a stall of 843, for each part varies by some 100 ms from one
# migration to the next).  The guest writes
# $RATE_CONVERGE pages/s over its 4096: round 0 leaves nearly all of them
# dirty (300 ms and more to send), later rounds fewer.  Then: the
# migration completes, precopy stopped with "downtime target reached" in
# round 1 or later, and the guest stood still at most T; or (a host so
# loaded that the guest outruns the link) the engine never predicted T or
# less and aborted, the guest kept here.
RATE_CONVERGE=${E2E_RATE_CONVERGE:-5000}
downtime_target() {
    local budget=$1 d0 s r x t low n=0 last
    guest_ensure pvh && guest_rate $RATE_CONVERGE || return 1
    # the guest's own resume, from two completed migrations at least
    while [ ${GUEST_RESUME_N:-0} -lt 2 ]; do
        [ $n -lt 3 ] || { fail "no figures of the hosts' pause after $n migrations"; return 1; }
        n=$((n + 1))
        log "learning the switchover: migration $n"
        migrate || return 1
        guest_verify || return 1
    done
    s=$(switchover_learnt sender) &&
        r=$(switchover_learnt receiver) ||
        { fail "xl learnt no switchover"; return 1; }
    x=$((s + r + ${GUEST_SUSPEND_MAX:-0} + GUEST_RESUME_MAX)) t=$((x + budget))
    log "switchover: sender $s ms + receiver $r ms (learnt) + the guest's suspend ${GUEST_SUSPEND_MAX:-0} ms (the most seen) + the guest's resume $GUEST_RESUME_MAX ms (the most of $GUEST_RESUME_N) = $x ms; target $t ms"
    sleep 1
    guest_verify || return 1      # reset maxgap: only the migration counts
    d0=$(domid_of $GUEST)
    MIG_BG=1; xl_migrate --downtime $t --switchover-ms $x --abort-if-busy; MIG_BG=
    await_logdirty_on $d0 $MIG_PID || { wait $MIG_PID; return 1; }
    wait $MIG_PID
    mig_done $?
    rounds_log | sed 's/^/E2E-LOG xl: /'
    if [ $MIG_RC -ne 0 ]; then
        check_aborted $d0 $MIG_RC || return 1
        # Only the prediction before round 1 stops on its own: from then
        # on the engine has libxenguest's counts of what the guest dirtied
        # (patches 25, 26), and waits for the one after the round.
        low=$(rounds_log | sed -n 's/^migration sender: round 0: .* downtime \([0-9]*\)ms: .*/\1/p' | awk -v t=$t '$1 <= t' | head -n 1)
        [ -z "$low" ] || { fail "aborted although round 1 was predicted $low ms, within the ${t} ms target"; return 1; }
        expect_reason "abort (not converging)" || return 1
        R_NOTE="target $t ms (switchover $x + $budget) not reachable here: aborted, guest kept; predicted $MIG_PRED, measured $V_GAP ms"
        return 0
    fi
    [ "$(domid_of $GUEST)" != "$d0" ] || { fail "the guest did not move"; return 1; }
    guest_verify || return 1
    R_DOWNTIME=$V_GAP
    expect_reason "stop and copy (downtime target reached)" || return 1
    last=$(rounds_log | tail -n 1 | sed -n 's/^migration sender: round \([0-9]*\):.*/\1/p')
    R_NOTE="target $t ms (switchover $x + $budget), stopped in round ${last:-?}, predicted $MIG_PRED ms, measured $V_GAP ms"
    [ "${last:-0}" -ge 1 ] || { fail "the target needed no more than round 0"; return 1; }
    # Under TCG the hosts' own pause varies by more than the budget from
    # one migration to the next (seen in CI: sender 552 ms against 304
    # learnt, 1867 ms measured against a 1587 ms target).  Then this run
    # cannot judge the engine's stop: the known failure DT_NOISE.
    if [ "${V_GAP:-999999}" -gt $t ]; then
        case "$MIG_HOSTS" in
            *[!0-9]*|'') ;;
            *) [ $MIG_HOSTS -le $((s + r + ${GUEST_SUSPEND_MAX:-0} + budget)) ] ||
                { R_NOTE="$R_NOTE; the hosts' pause $MIG_HOSTS ms against $((s + r)) learnt + the guest's suspend ${GUEST_SUSPEND_MAX:-0} + $budget"
                  fail "$DT_NOISE"; return 1; } ;;
        esac
        fail "the guest stood still longer than the target"; return 1
    fi
    # What log-dirty mode counted (patch 25), as libxl's debug line of
    # each consultation gives it: known during and after the rounds but
    # the first, unknown in round 0 (no CLEAN has reset the count).
    n=$(grep -a -c 'precopy: round [1-9][0-9]*, .*, [0-9][0-9]* dirtied in the round: ' $E2E_TMP/migrate.log)
    [ "$n" -ge 1 ] || { fail "no consultation after round 0 had the count of pages dirtied"; return 1; }
    ! grep -a -q 'precopy: round 0, .*, [0-9][0-9]* dirtied in the round: ' $E2E_TMP/migrate.log ||
        { fail "round 0 had a count of pages dirtied"; return 1; }
    R_NOTE="$R_NOTE; $n consultations had log-dirty's count"
    guest_errors
}
sc_pvh_downtime_plus50()  { downtime_target 50; }
sc_pvh_downtime_plus100() { downtime_target 100; }

# --- auto-converge (patches 23 and 24) -----------------------------------
# sched_cap DOMAIN: its credit2 (or credit) cap, 0 for none
# (the domain's line is the last: xl sched-credit heads it with its pool's)
sched_cap() {
    local s c
    for s in credit2 credit; do
        c=$(xl sched-$s -d "$1" 2>/dev/null | awk 'END { print $NF }')
        case $c in ''|*[!0-9]*) ;; *) echo $c; return 0 ;; esac
    done
    return 1
}
# cap_sampler DOMID FILE: the domain's cap, every 0.2 s, until it is gone
cap_sampler() {
    local c
    while c=$(sched_cap $1) && [ -n "$c" ]; do
        echo "$c" >> $2
        sleep 0.2
    done
}
# ac_start: start a migration with --auto-converge towards a target it
# cannot reach (1 ms: less than any switchover) and that does not end by
# itself, and wait until the guest is throttled (its cap not AC_CAP0)
ac_start() {
    local end c=
    AC_D0=$(domid_of $GUEST)
    MIG_BG=1; xl_migrate --downtime 1 --auto-converge $NEVER_ENDS; MIG_BG=
    log "auto-converge: migration started (xl $MIG_PID), waiting for a throttle"
    end=$(($(now_cs) + 12000))
    while [ $(now_cs) -lt $end ]; do
        grep -a -q 'precopy: auto-converge: throttle .*: scheduler cap' $E2E_TMP/migrate.log &&
            { AC_DURING=$(sched_cap $AC_D0); log "auto-converge: throttled, cap $AC_DURING"; return 0; }
        kill -0 $MIG_PID 2>/dev/null || break
        sleep 0.1
    done
    grep -a -v 'libxl: debug\|Frames iteration\|xencall' $E2E_TMP/migrate.log | tail -n 15 | sed 's/^/E2E-LOG xl: /'
    rounds_log | sed 's/^/E2E-LOG xl: /'
    fail "the guest was not throttled (cap ${c:-?})"; kill $MIG_PID 2>/dev/null; wait $MIG_PID
    return 1
}
# caps_seen FILE: the caps cap_sampler saw, each once, in order
caps_seen() { uniq $1 | tr '\n' ' ' | sed 's/ $//; s/ / -> /g'; }
# caps_set: the caps libxl set during the last migration, by its log
# ("precopy: auto-converge: throttle 99% (raised): scheduler cap 1 (its
# own: 60)"), and the one it gave back ("scheduler cap 60 again")
caps_set() {
    sed -n 's/.*precopy: auto-converge: throttle .*: scheduler cap \([0-9]*\) (its own.*/\1/p' $E2E_TMP/migrate.log | tr '\n' ' '
    sed -n 's/.*precopy: auto-converge: scheduler cap \([0-9]*\) again.*/back to \1/p' $E2E_TMP/migrate.log | tail -n 1
}
# pool_move POOL: the guest to cpupool POOL (created with scheduler
# SCHED on cpu 1, taken from Pool-0; or Pool-0 again, which gets cpu 1
# back) with its cap set to AC_CAP0 there
pool_move() {
    local pool=$1 sched=$2 p
    if [ $pool != Pool-0 ]; then
        xl cpupool-cpu-remove Pool-0 1 > $E2E_TMP/pool.log 2>&1 &&
            xl cpupool-create name=\"$pool\" sched=\"$sched\" cpus=\"1\" >> $E2E_TMP/pool.log 2>&1 ||
            { fail "cannot make a $sched cpupool on cpu 1: $(tail -n 3 $E2E_TMP/pool.log)"; return 1; }
    fi
    xl cpupool-migrate $GUEST $pool || { fail "cannot move the guest to $pool"; return 1; }
    if [ $pool = Pool-0 ]; then
        for p in $(xl cpupool-list | awk 'NR > 1 && $1 != "Pool-0" { print $1 }'); do
            xl cpupool-destroy $p
        done
        xl cpupool-cpu-add Pool-0 1 || { fail "cannot give cpu 1 back to Pool-0"; return 1; }
    fi
    [ "$sched" = null ] && return 0
    xl sched-$sched -d $GUEST -c $AC_CAP0 ||
        { fail "cannot set a $sched cap"; return 1; }
    [ "$(sched_cap $GUEST)" = $AC_CAP0 ] || { fail "the cap is $(sched_cap $GUEST), not $AC_CAP0"; return 1; }
}
# A busy guest (as fast as it can, far above the link) with a cap of its
# own, 60, and the migrations of auto-converge:
# 0. in a cpupool of the null scheduler, which has no cap: xl migrate
#    says so in one line, and nothing is throttled;
# 1. in a cpupool of credit, towards a target it cannot reach, with
#    --abort-if-busy: the policy aborts, and the source's cap is as it
#    was;
# 2. the sending xl killed while the guest is throttled: the cap stays,
#    with its record, until xl migrate-ctl unthrottle gives it back;
# 3. (after a first throttled migration, to learn what a throttled guest's
#    switchover takes) towards the switchover + 500 ms, which the guest
#    does not reach unthrottled: it completes within the target, by the
#    guest's own measured stall, and the destination has the guest's cap.
# Under TCG the guest dirties fewer pages a second than the emulated link
# carries (each first write after a CLEAN is a shadow fault): for 1 to 3
# the link is made slower than that, 4 MiB/s (1024 pages/s), from the
# last 14 MB or so of round 0 (the whole guest, 128 MiB, 134 MB with its
# records): e2e-ratelimit before the receiver.  The engine believes a
# drop in bandwidth at once, so its first prediction, before round 1, is
# already of the slow link.  (Slowed only once round 0 had gone, a host
# whose emulated link carries 13000 pages/s or more sent a busy guest's
# 4096 pages within the 500 ms above the switchover that 3. aims at, on
# the prediction of round 0's rate: the engine stopped before round 1,
# unthrottled, and round 1 then went at 1024 pages/s.)
AC_LINK="e2e-ratelimit 4194304 120000000"
AC_SPREAD=300
sc_pvh_auto_converge() {
    local s r x t c n=0 i caps first above rec rm_keep rn_keep sm_keep
    guest_ensure pvh && guest_rate $RATE_CONVERGE || return 1
    while [ ${GUEST_RESUME_N:-0} -lt 2 ]; do
        [ $n -lt 3 ] || { fail "no figures of the hosts' pause after $n migrations"; return 1; }
        n=$((n + 1))
        migrate || return 1
        guest_verify || return 1
    done
    AC_CAP0=60
    s=$(switchover_learnt sender) &&
        r=$(switchover_learnt receiver) ||
        { fail "xl learnt no switchover"; return 1; }
    x=$((s + r + ${GUEST_SUSPEND_MAX:-0} + GUEST_RESUME_MAX))
    log "switchover $x ms (sender $s, receiver $r, the guest's suspend ${GUEST_SUSPEND_MAX:-0}, the guest's resume $GUEST_RESUME_MAX); cap $AC_CAP0"
    guest_rate $RATE_BUSY || return 1
    sleep 1

    # 0. no cap to set
    pool_move e2e-null null || return 1
    migrate_aborted --downtime 1 --auto-converge --abort-if-busy || return 1
    n=$(grep -a -c 'auto-converge: the domain.s scheduler, null, has no cap: not throttling' $E2E_TMP/migrate.log)
    [ "$n" = 1 ] || { fail "'has no cap' said $n times, not once"; return 1; }
    grep -a -q 'scheduler cap [0-9]' $E2E_TMP/migrate.log && { fail "libxl set a cap under null"; return 1; }
    caps="null: one line, no cap"

    # 1. the policy aborts: the source's cap as it was (credit)
    pool_move Pool-0 credit2 && pool_move e2e-credit credit || return 1
    RECV_CMD="$AC_LINK | $RECV"
    AC_D0=$(domid_of $GUEST)
    rm -f $E2E_TMP/caps
    cap_sampler $AC_D0 $E2E_TMP/caps &
    AC_SAMPLER=$!
    migrate_aborted --downtime 1 --auto-converge --abort-if-busy || { kill $AC_SAMPLER; return 1; }
    kill $AC_SAMPLER; wait $AC_SAMPLER 2>/dev/null
    expect_reason "abort (not converging)" || return 1
    c=$(sched_cap $GUEST)
    caps="$caps; credit, policy abort: seen $(caps_seen $E2E_TMP/caps) -> $c (libxl set $(caps_set))"
    log "e2e-auto-converge: cap $caps"
    grep -q 'throttle [1-9]' $E2E_TMP/migrate.log || { fail "no round was throttled"; return 1; }
    [ -n "$(caps_set)" ] || { fail "libxl set no cap"; return 1; }
    [ "$c" = $AC_CAP0 ] || { fail "after the abort the cap is $c, not $AC_CAP0"; return 1; }

    # 2. the sending xl killed: the cap stays, with its record, until
    # migrate-ctl unthrottle (credit2, as from here on)
    pool_move Pool-0 credit2 || return 1
    log "auto-converge: $(xl cpupool-list | tr '\n' ' ')"
    ac_start || return 1
    kill -9 $MIG_PID
    wait $MIG_PID
    mig_done $?
    i=0
    while [ $i -lt 60 ] && xl list | grep -q -- '--incoming'; do sleep 1; i=$((i + 1)); done
    guest_kept_at_source $AC_D0 || return 1
    log "auto-converge: xl killed"
    c=$(sched_cap $GUEST) rec=$(xenstore-read /libxl/$AC_D0/precopy-throttle 2>/dev/null)
    log "xl killed: cap $c, record '${rec:-none}'"
    [ -n "$rec" ] || { fail "no record of the cap was left (cap $c)"; return 1; }
    xl migrate-ctl $GUEST unthrottle > $E2E_TMP/ctl.log 2>&1 ||
        { fail "xl migrate-ctl unthrottle: $(cat $E2E_TMP/ctl.log)"; return 1; }
    sed 's/^/E2E-LOG xl: /' $E2E_TMP/ctl.log
    [ "$(sched_cap $GUEST)" = $AC_CAP0 ] || { fail "after unthrottle the cap is $(sched_cap $GUEST), not $AC_CAP0"; return 1; }
    xenstore-read /libxl/$AC_D0/precopy-throttle > /dev/null 2>&1 && { fail "the record is still there"; return 1; }
    caps="$caps; xl killed: $AC_CAP0 -> $c (record '$rec') -> unthrottle -> $AC_CAP0"
    log "e2e-auto-converge: cap $caps"
    guest_verify || return 1
    guest_errors || return 1
    xl migrate-ctl $GUEST unthrottle > /dev/null 2>&1 && { fail "a second unthrottle succeeded"; return 1; }

    # 3. completes within the target, the destination with its own cap.
    # A throttled guest's switchover is longer than an unthrottled one's
    # (the sender's share measured 700 to 1200 ms against 170 to 450):
    # libxl lifts the throttle as it asks the guest to suspend (kept, the
    # guest handled the request at 1-9% of its CPU: 5.8 s of the sender's
    # share, 4.9 s the guest stood still, measured), and the guest dirties
    # at full speed until it has frozen its tasks, pages the stop-and-copy
    # sends at 1024 pages/s and the engine does not predict.  The
    # switchover counted must know it: a first throttled migration teaches
    # it, as any would on a real host: libxl learns both hosts' shares,
    # the guest's own resume is taken from the switchover's gap (not the
    # throttle's parks), and the switchover counted is at least what the
    # guest stood still at it (1226 to 1379 ms measured).  Then the target
    # is 500 ms above the switchover, which the guest's 4096 pages leave
    # out of reach unthrottled (checked below): 4 s at 1024 pages/s, the
    # rate the end of round 0 already goes at.  The engine is told a
    # switchover AC_SPREAD longer: from one throttled migration to the
    # next, the sender's share varied by up to 343 ms (677 to 1020).
    log "auto-converge: a first throttled migration, to learn its switchover"
    guest_verify || return 1
    rm_keep=$GUEST_RESUME_MAX rn_keep=$GUEST_RESUME_N sm_keep=${GUEST_SUSPEND_MAX:-0}
    migrate --downtime $((x + 500)) --switchover-ms $x --auto-converge || return 1
    guest_verify || return 1
    GUEST_RESUME_MAX=$rm_keep GUEST_RESUME_N=$rn_keep
    case "$MIG_SENDER$MIG_RECV$V_LASTGAP" in
    *[!0-9]*) fail "no switchover measured"; return 1 ;;
    esac
    [ $((V_LASTGAP - MIG_SENDER - MIG_RECV)) -le $GUEST_RESUME_MAX ] ||
        GUEST_RESUME_MAX=$((V_LASTGAP - MIG_SENDER - MIG_RECV))
    s=$(switchover_learnt sender) &&
        r=$(switchover_learnt receiver) ||
        { fail "xl learnt no switchover"; return 1; }
    # (the throttled guest's suspend, which libxl no longer learns, is
    # in GUEST_SUSPEND_MAX from that migration)
    x=$((s + r + ${GUEST_SUSPEND_MAX:-0} + GUEST_RESUME_MAX))
    [ $x -ge $V_LASTGAP ] || x=$V_LASTGAP
    t=$((x + 500))
    log "auto-converge: throttled, switchover $x ms (sender $s, receiver $r, the guest's resume $GUEST_RESUME_MAX, the guest stood still $V_LASTGAP), counted $((x + AC_SPREAD)); migrating towards $t ms"
    guest_verify || return 1      # reset maxgap: only the migration counts
    AC_D0=$(domid_of $GUEST)
    rm -f $E2E_TMP/caps
    cap_sampler $AC_D0 $E2E_TMP/caps &
    AC_SAMPLER=$!
    migrate --downtime $t --switchover-ms $((x + AC_SPREAD)) --auto-converge || { kill $AC_SAMPLER; return 1; }
    wait $AC_SAMPLER 2>/dev/null
    guest_verify || return 1
    # (the throttle's parks are not the guest's resume, nor its slowed
    # suspend its own, for later scenarios)
    GUEST_RESUME_MAX=$rm_keep GUEST_RESUME_N=$rn_keep GUEST_SUSPEND_MAX=$sm_keep
    expect_reason "stop and copy (downtime target reached)" || return 1
    c=$(sched_cap $GUEST)
    first=$(rounds_log | grep -n 'throttle [1-9]' | head -n 1 | cut -d: -f1)
    [ -n "$first" ] || { fail "no round was throttled"; return 1; }
    above=$(rounds_log | head -n $((first - 1)) | sed -n 's/.* downtime \([0-9]*\)ms, .*/\1/p' | awk -v t=$t '$1 <= t' | head -n 1)
    RECV_CMD=
    caps="$caps; migrated: seen $(caps_seen $E2E_TMP/caps) (libxl set $(caps_set)) -> $c on the destination"
    # The stall of the switchover is the guest's latest gap: throttled to
    # 1-3%, it was also parked by the scheduler before (the longest gap)
    R_DOWNTIME=$V_LASTGAP
    R_NOTE="target $t ms, switchover stall $V_LASTGAP ms (throttled, the guest was parked up to $V_GAP ms); cap $caps"
    log "e2e-auto-converge: target $t ms, switchover stall $V_LASTGAP ms (longest park $V_GAP ms); cap $caps"
    [ -z "$above" ] || { fail "a round before the throttle predicted $above ms, within the target: the test proves nothing"; return 1; }
    [ "$c" = $AC_CAP0 ] || { fail "the destination's cap is $c, not $AC_CAP0"; return 1; }
    [ -n "$(caps_set)" ] || { fail "libxl set no cap"; return 1; }
    # (the pause both hosts measured is within the switchover's gap: a
    # shorter latest gap is another, and proves nothing)
    case "$MIG_SENDER$MIG_RECV" in
        *[!0-9]*) fail "no pause measured by the hosts"; return 1 ;;
    esac
    [ "${V_LASTGAP:-0}" -ge $((MIG_SENDER + MIG_RECV)) ] ||
        { fail "the latest gap, ${V_LASTGAP:-?} ms, is shorter than the hosts' pause ($MIG_SENDER + $MIG_RECV ms): not the switchover's"; return 1; }
    [ "${V_LASTGAP:-999999}" -le $t ] || { fail "the guest stood still longer than the target at the switchover"; return 1; }
    xl sched-credit2 -d $GUEST -c 0
    guest_errors
}

# The policy has already decided to stop: --dirty-target 100000000 stops
# at the first consultation, before round 0 (whose dirty count is every
# pfn up to the highest, holes included: 1044480 for this guest, so 1000000
# would stop only before round 1), which is then the last round sent live
# (all of the guest's memory: the slowest round).  An abort through
# migrate-ctl during it must still abort: the guest stays here.
sc_pvh_ctl_abort_last_round() {
    local d0 i=0
    guest_ensure pvh && guest_rate $RATE_BUSY || return 1
    sleep 1
    d0=$(domid_of $GUEST)
    MIG_BG=1; xl_migrate --dirty-target 100000000; MIG_BG=
    while [ $i -lt 240 ] && ! grep -q 'precopy: stop and copy after' $E2E_TMP/migrate.log; do
        sleep 0.25; i=$((i + 1))
    done
    grep -a 'precopy: stop and copy after' $E2E_TMP/migrate.log | head -n 1 | sed 's/^/E2E-LOG xl: /'
    grep -q 'precopy: stop and copy after 0 rounds' $E2E_TMP/migrate.log ||
        { fail "the policy did not decide to stop before round 0"; wait $MIG_PID; return 1; }
    await_logdirty_on $d0 $MIG_PID || { wait $MIG_PID; return 1; }
    grep -q 'Domain now suspended' $E2E_TMP/migrate.log &&
        { fail "the guest was already suspended: too late"; wait $MIG_PID; return 1; }
    log "migrate-ctl $GUEST abort (in the last live round)"
    xl migrate-ctl $GUEST abort > $E2E_TMP/ctl.log 2>&1 ||
        { fail "xl migrate-ctl abort: $(cat $E2E_TMP/ctl.log)"; wait $MIG_PID; return 1; }
    wait $MIG_PID
    mig_done $?
    grep -a 'precopy: round ' $E2E_TMP/migrate.log | sed 's/.*precopy: /E2E-LOG xl: precopy: /' | tail -n 4
    check_aborted $d0 $MIG_RC || return 1
    R_NOTE="aborted in the last live round (stop decided before it), guest kept"
}

# --- a second xl, a signal, a killed xl (issue 24) ---------------------

# The link slowed once most of round 0 has gone, so that precopy's later
# rounds and the stop-and-copy last seconds.
SLOW_LINK="e2e-ratelimit 2097152 120000000"
# A link that all but stops there: a stream that stalls.
STALLED_LINK="e2e-ratelimit 4096 120000000"

# second_xl WHEN: a second xl migrate of the guest while the first runs:
# it must be refused, and say so, without resuming anything
second_xl() {
    local rc st
    xl migrate -s '' $GUEST "$RECV" > $E2E_TMP/second.log 2>&1
    rc=$?
    st=$(xl list $GUEST 2>/dev/null | awk 'NR == 2 { print $5 }')
    grep -a -v 'libxl: debug' $E2E_TMP/second.log | tail -n 4 | sed "s/^/E2E-LOG xl ($1, second): /"
    log "second xl migrate during $1: rc $rc, the guest's state after it: $st"
    SECOND_STATES="$SECOND_STATES $1:$st"
    [ $rc -ne 0 ] || { fail "a second xl migrate during $1 succeeded"; return 1; }
    grep -q 'resuming at sender\|Resumed OK' $E2E_TMP/second.log &&
        { fail "the second xl migrate during $1 resumed the guest"; return 1; }
    grep -q 'Migration refused' $E2E_TMP/second.log ||
        { fail "the second xl migrate during $1 was not refused (rc $rc)"; return 1; }
}

# A second xl migrate during the first's precopy and during its
# stop-and-copy: refused each time, the guest not resumed in the middle of
# the copy (it stays paused), the first completes, one copy of the guest
# runs, and its memory verifies.  (Before the fix, the refusal came as a
# failure, and xl resumed the guest: "r" during the copy.)
sc_pvh_second_xl() {
    local d0 i=0 alive= ph
    guest_ensure pvh && guest_rate $RATE_BUSY || return 1
    d0=$(domid_of $GUEST)
    SECOND_STATES=
    RECV_CMD="$SLOW_LINK | $RECV"
    MIG_BG=1; xl_migrate $NEVER_ENDS; MIG_BG=
    RECV_CMD=
    while [ $i -lt 600 ] && [ "$(rounds_log | wc -l)" -lt 1 ]; do
        sleep 0.25; i=$((i + 1))
    done
    [ "$(rounds_log | wc -l)" -ge 1 ] || { fail "round 0 never ended"; kill $MIG_PID; wait $MIG_PID; return 1; }
    second_xl precopy || { kill $MIG_PID; wait $MIG_PID; return 1; }
    kill -0 $MIG_PID 2>/dev/null || { fail "the first migration ended during the second's attempt"; wait $MIG_PID; return 1; }
    xl migrate-ctl $GUEST switchover > $E2E_TMP/ctl.log 2>&1 ||
        { fail "xl migrate-ctl switchover: $(cat $E2E_TMP/ctl.log)"; kill $MIG_PID; wait $MIG_PID; return 1; }
    i=0
    while [ $i -lt 600 ]; do
        ph=$(xenstore-read /libxl/$d0/precopy/phase 2>/dev/null)
        [ "$ph" = stop-and-copy ] && break
        kill -0 $MIG_PID 2>/dev/null || break
        sleep 0.1; i=$((i + 1))
    done
    [ "$ph" = stop-and-copy ] || { fail "the first migration did not reach stop-and-copy (phase '$ph')"; wait $MIG_PID; return 1; }
    second_xl stop-and-copy || { wait $MIG_PID; return 1; }
    kill -0 $MIG_PID 2>/dev/null && alive=1
    wait $MIG_PID
    mig_done $?
    xl_tail 6
    [ -n "$alive" ] || { fail "the first migration had ended before the second was refused: the stop-and-copy was not tried"; return 1; }
    case ${SECOND_STATES##* stop-and-copy:} in
        r*) fail "the guest ran (state ${SECOND_STATES##* stop-and-copy:}) during the first's stop-and-copy"; return 1 ;;
    esac
    [ $MIG_RC -eq 0 ] || { fail "the first migration failed (rc $MIG_RC)"; return 1; }
    [ "$(domid_of $GUEST)" != "$d0" ] || { fail "the guest did not move"; return 1; }
    [ "$(xl list | grep -c "^$GUEST")" -eq 1 ] || { fail "not one copy of the guest: $(xl list | tr '\n' ' ')"; return 1; }
    guest_verify || return 1
    R_NOTE="refused twice; the guest's state after each:$SECOND_STATES"
    guest_errors
}

# sig_migrate SIG ARGS...: xl migrate ARGS in a process group of its own
# (as at a terminal), the receiver in another session (as on another
# host); once precopy runs (and with --auto-converge the guest is
# throttled), SIG to the whole group: xl and its libxl-save-helper.
sig_migrate() {
    local sig=$1 d0 i=0
    shift
    d0=$(domid_of $GUEST)
    MIG_SETSID=1 MIG_BG=1
    case " $* " in
        *" --auto-converge "*)
            # the link slowed, as pvh_auto_converge's, so that the
            # throttled guest still dirties pages: precopy goes on
            RECV_CMD="e2e-session sh -c '$AC_LINK | $RECV'"
            ac_start || { RECV_CMD= MIG_SETSID= MIG_BG=; return 1; } ;;
        *)  RECV_CMD="e2e-session $RECV"
            xl_migrate "$@"
            while [ $i -lt 600 ] && [ "$(rounds_log | wc -l)" -lt 2 ]; do
                sleep 0.25; i=$((i + 1))
            done
            await_logdirty_on $d0 $MIG_PID || { RECV_CMD= MIG_SETSID= MIG_BG=; kill $MIG_PID; wait $MIG_PID; return 1; } ;;
    esac
    RECV_CMD= MIG_SETSID= MIG_BG=
    grep -q 'Domain now suspended' $E2E_TMP/migrate.log &&
        { fail "the guest was already suspended: too late"; wait $MIG_PID; return 1; }
    log "SIG$sig to the sending xl's process group ($MIG_PID)"
    kill -$sig -$MIG_PID || { fail "could not signal the group $MIG_PID"; kill $MIG_PID; wait $MIG_PID; return 1; }
    i=0
    while [ $i -lt 240 ] && kill -0 $MIG_PID 2>/dev/null; do sleep 0.25; i=$((i + 1)); done
    if kill -0 $MIG_PID 2>/dev/null; then
        kill -9 -$MIG_PID; wait $MIG_PID
        fail "xl migrate went on for 60 s after SIG$sig"; return 1
    fi
    wait $MIG_PID
    mig_done $?
    SIG_HELPER=$(save_helper_pid && echo left)
    check_aborted $d0 $MIG_RC
}

# SIGINT (Ctrl-C) to xl migrate's process group during precopy, then
# SIGHUP (a dropped session) with --auto-converge while the guest is
# throttled: each time xl ends precopy as migrate-ctl abort does, and the
# guest keeps running here, log-dirty off, its own cap back, no helper
# left.  (Before the fix both died: log-dirty stayed on, the cap 1.)
sc_pvh_signals() {
    local c set
    guest_ensure pvh && guest_rate $RATE_BUSY || return 1
    sig_migrate INT $NEVER_ENDS || return 1
    [ -z "$SIG_HELPER" ] || { fail "a libxl-save-helper is left after SIGINT"; return 1; }
    AC_CAP0=60
    xl sched-credit2 -d $GUEST -c $AC_CAP0 || { fail "cannot cap the guest"; return 1; }
    sig_migrate HUP --auto-converge || { xl sched-credit2 -d $GUEST -c 0; return 1; }
    set=$(caps_set)
    c=$(sched_cap $GUEST)
    xl sched-credit2 -d $GUEST -c 0
    [ -z "$SIG_HELPER" ] || { fail "a libxl-save-helper is left after SIGHUP"; return 1; }
    [ "$c" = $AC_CAP0 ] || { fail "after SIGHUP the cap is $c, not $AC_CAP0 (throttled: $AC_DURING)"; return 1; }
    case $set in
        *"back to $AC_CAP0"*) ;;
        *) fail "libxl did not give the cap back at SIGHUP (caps set: $set)"; return 1 ;;
    esac
    R_NOTE="SIGINT; SIGHUP while throttled (caps set: $set): aborted, log-dirty off, cap $c again"
}

# xl migrate killed while its libxl-save-helper is blocked on a stalled
# stream, then a retry: the orphaned helper still holds the lock, so the
# retry is refused, and migrate-ctl refuses commands saying why; once the
# stream breaks, the orphan turns log-dirty off and exits, and a retry
# migrates the guest with its memory whole.  (Before the fix, the retry
# ran, and the orphan's cleanup turned log-dirty off under it.)
sc_pvh_kill_xl_retry() {
    local d0 i=0 helper n m same
    guest_ensure pvh && guest_rate $RATE_BUSY || return 1
    d0=$(domid_of $GUEST)
    RECV_CMD="$STALLED_LINK | $RECV"
    MIG_BG=1; xl_migrate $NEVER_ENDS; MIG_BG=
    RECV_CMD=
    await_logdirty_on $d0 $MIG_PID || { kill $MIG_PID; wait $MIG_PID; return 1; }
    # stalled: no consultation of the policy (every 16 MiB) for 4 s
    n=-1 same=0
    while [ $i -lt 240 ] && [ $same -lt 8 ] && kill -0 $MIG_PID 2>/dev/null; do
        m=$(grep -a -c 'precopy: round [0-9]*, ' $E2E_TMP/migrate.log)
        [ "$m" = "$n" ] && same=$((same + 1)) || same=0
        n=$m
        sleep 0.5; i=$((i + 1))
    done
    [ $same -ge 8 ] || { fail "the stream never stalled"; kill $MIG_PID; wait $MIG_PID; return 1; }
    i=0
    helper=$(save_helper_pid) || { fail "no libxl-save-helper"; kill $MIG_PID; wait $MIG_PID; return 1; }
    kill -9 $MIG_PID
    wait $MIG_PID
    log "killed xl ($MIG_PID); its libxl-save-helper $helper is blocked on the stalled stream"
    kill -0 $helper 2>/dev/null || { fail "the helper did not outlive xl"; return 1; }
    xl migrate-ctl $GUEST abort > $E2E_TMP/ctl.log 2>&1 &&
        { fail "migrate-ctl abort succeeded with no xl to act on it"; return 1; }
    sed 's/^/E2E-LOG migrate-ctl: /' $E2E_TMP/ctl.log | tail -n 2
    grep -q 'has died' $E2E_TMP/ctl.log || { fail "migrate-ctl did not say the saving process died: $(cat $E2E_TMP/ctl.log)"; return 1; }
    xl migrate -s '' $GUEST "$RECV" > $E2E_TMP/second.log 2>&1 &&
        { fail "a retry ran while the orphaned helper held log-dirty"; return 1; }
    grep -a -v 'libxl: debug' $E2E_TMP/second.log | tail -n 3 | sed 's/^/E2E-LOG xl (retry): /'
    grep -q 'Migration refused' $E2E_TMP/second.log || { fail "the retry was not refused"; return 1; }
    # the stream breaks: the orphan fails its save and exits
    pkill -f "e2e-ratelimit 4096" 2>/dev/null || kill $(ps -o pid,args | awk '$2 == "e2e-ratelimit" { print $1 }') 2>/dev/null
    while [ $i -lt 120 ] && kill -0 $helper 2>/dev/null; do sleep 0.5; i=$((i + 1)); done
    kill -0 $helper 2>/dev/null && { fail "the orphaned helper did not exit once the stream broke"; kill -9 $helper; return 1; }
    i=0
    while [ $i -lt 60 ] && xl list | grep -q -- '--incoming'; do sleep 1; i=$((i + 1)); done
    guest_kept_at_source $d0 || return 1
    [ "$(logdirty_state $d0)" = off ] || { fail "log-dirty is on after the orphan exited"; return 1; }
    guest_verify || return 1
    migrate || { fail "the retry after the orphan exited failed"; return 1; }
    guest_verify || return 1
    R_NOTE="retry refused while the orphan lived; migrate-ctl refused; then migrated, memory whole"
    guest_errors
}

# A guest slow to suspend (busy, capped to a few % of a CPU) must not
# steer the next migration's prediction: what xl learns stays dom0's
# own work, and a migration towards a target the usual switchover meets,
# with --abort-if-busy, completes.  (Before, libxl learnt the guest's
# suspend as this host's share at once, the next prediction counted it,
# and that migration aborted: "not converging".)
# How long a capped guest takes to suspend varies from run to run (1.3 to
# 5.7 s at 10% in CI): a suspend under 1500 ms is tried again at the next,
# lower cap (at 1% it outlasts libxl's 60 s timeout).
SLOW_CAPS="10 5 3"
sc_pvh_slow_suspend() {
    local s0 r0 s1 r1 sus keep rc t cap
    guest_ensure pvh && guest_rate $RATE_MODERATE || return 1
    migrate && guest_verify || return 1
    s0=$(switchover_learnt sender) &&
        r0=$(switchover_learnt receiver) ||
        { fail "xl learnt no switchover"; return 1; }
    keep=${GUEST_SUSPEND_MAX:-0}
    guest_rate $RATE_BUSY || return 1
    for cap in $SLOW_CAPS; do
        xl sched-credit2 -d $GUEST -c $cap || { fail "cannot cap the guest"; return 1; }
        log "the guest busy and capped to $cap%: a migration it suspends slowly in (learnt before: sender $s0 ms, receiver $r0 ms)"
        migrate; rc=$?
        sus=$MIG_SUSPEND
        # (the cap went with the guest; and its slow suspend is not its usual)
        xl sched-credit2 -d $GUEST -c 0
        GUEST_SUSPEND_MAX=$keep
        [ $rc -eq 0 ] && guest_verify || return 1
        case $sus in ''|*[!0-9]*) fail "no suspend time in libxl's log"; return 1 ;; esac
        [ $sus -lt 1500 ] || break
        log "capped to $cap%, the guest suspended in $sus ms: too fast to test anything"
    done
    [ $sus -ge 1500 ] || { fail "capped to $cap%, the guest suspended in $sus ms: too fast to test anything"; return 1; }
    s1=$(switchover_learnt sender) &&
        r1=$(switchover_learnt receiver) ||
        { fail "xl learnt no switchover"; return 1; }
    log "the guest suspended in $sus ms; learnt now: sender $s1 ms, receiver $r1 ms"
    [ $s1 -lt $sus ] || { fail "xl learnt the guest's slow suspend: sender $s1 ms after a $sus ms suspend"; return 1; }
    guest_rate $RATE_MODERATE || return 1
    sleep 1
    t=$((s0 + r0 + 1100))
    migrate --downtime $t --abort-if-busy || return 1
    guest_verify || return 1
    case $MIG_COUNTED in
        *[!0-9]*|'') fail "no switchover counted in libxl's log"; return 1 ;;
    esac
    [ $MIG_COUNTED -lt $sus ] || { fail "the next migration counted $MIG_COUNTED ms of switchover after a $sus ms suspend"; return 1; }
    expect_reason "stop and copy (downtime target reached)" || return 1
    R_NOTE="suspend $sus ms (cap $cap%): learnt sender $s0 -> $s1 ms; next: counted $MIG_COUNTED ms, target $t ms met; ${R_NOTE#last: }"
    guest_errors
}

# What xl learns of the switchover is kept per destination (patch 35): a
# destination whose restore is slow (here: its file says 1.9 s, as a
# slow host's would) lengthens the switchover counted for migrations to
# it, not to any other.  Two destinations on this one VM: A, $RECV, and
# B, the same command run by exec, which xl takes for another host.
# (Before, libxl learnt one host-wide switchover in /libxl, and xl kept
# no file.)
sc_pvh_learn_per_destination() {
    local b="exec $RECV" fa fb sa ra t n rc
    guest_ensure pvh && guest_rate $RATE_MODERATE || return 1
    fa=$(learnt_file) fb=$(learnt_file "$b")
    rm -f "$fa" "$fb"
    migrate && guest_verify || return 1
    sa=$(switchover_learnt sender) && ra=$(switchover_learnt receiver) ||
        { fail "xl learnt nothing for destination A ($fa): $(ls $LEARNT_DIR 2>&1 | tr '\n' ' ')"; return 1; }
    [ ! -e "$fb" ] || { fail "a migration to A wrote B's file"; return 1; }
    log "learnt for A: sender $sa ms, receiver $ra ms; B: a receiver of 1900 ms"
    printf 'sender 5\nreceiver 1900 1900 1900 1900 1900\n' > "$fb"
    # A: B's slow restore is not counted, and A's target is met
    t=$((sa + ra + 1100))
    migrate --downtime $t --abort-if-busy || return 1
    guest_verify || return 1
    case $MIG_COUNTED in *[!0-9]*|'') fail "no switchover counted in libxl's log"; return 1 ;; esac
    [ $MIG_COUNTED -lt 1900 ] || { fail "a migration to A counted $MIG_COUNTED ms: B's 1900"; return 1; }
    expect_reason "stop and copy (downtime target reached)" || return 1
    # B: counted, and B's file grows by one measurement, A's does not
    n=$(sed -n 's/^receiver //p' "$fa" | wc -w)
    RECV_CMD=$b
    migrate --downtime 5000; rc=$?
    RECV_CMD=
    [ $rc -eq 0 ] && guest_verify || return 1
    [ "$MIG_COUNTED" = $((5 + 1900 + 100)) ] || { fail "a migration to B counted $MIG_COUNTED ms, not 2005 (B's shares and the guest's 100)"; return 1; }
    [ "$(sed -n 's/^receiver //p' "$fa" | wc -w)" = $n ] || { fail "a migration to B changed A's file: $(cat "$fa" | tr '\n' ' ')"; return 1; }
    sed -n 's/^receiver //p' "$fb" | grep -q '^1900 1900 1900 1900 [0-9][0-9]*$' ||
        { fail "B's file is not B's five newest: $(cat "$fb" | tr '\n' ' ')"; return 1; }
    R_NOTE="A: learnt $sa + $ra ms, target $t ms met; B: counted 2005 ms (1900 planted); files apart"
    guest_errors
}

# The guest is untrusted.  During a migration of it, the guest itself
# (memtest's "s" command, through its kernel's /dev/xen/xenbus) tries to
# read, write and create the toolstack's nodes /libxl/<its domid>/precopy/*
# and those above, and writes "abort", "switchover" and a downtime into
# its own area (/local/domain/<domid>/...), where a toolstack that looked
# there would obey it.  dom0 checks the nodes are owned by dom0 with no
# access for anyone else, that they are gone after the migration, and that
# the migration went as dom0 says (a precopy that does not end by itself,
# ended by dom0's migrate-ctl switchover: "stop and copy (requested)", once),
# not as the guest asked (no abort, no downtime target).
# xs_add EXPECT OP PATH [VALUE]: queue one xenstore request for the guest
# (EXPECT: deny, or ok); xs_run sends them all at once (one console write)
# and checks each answer.
xs_add() {
    local want=$1
    shift
    new_tag
    echo "$TAG $want $*" >> $E2E_TMP/xs.req
}
xs_run() {
    local tag want line last= cmds=
    while read -r tag want line; do
        cmds="${cmds}s $tag $line
"
        last=$tag
    done < $E2E_TMP/xs.req
    guest_cmd "$cmds" || return 1
    wait_glog "E2E xs tag=$last " 60 || { fail "no answer from the guest to its xenstore requests"; return 1; }
    XS_DENIED=0
    while read -r tag want line; do
        line=$(glog | grep -a "E2E xs tag=$tag " | head -n 1)
        log "guest: $line"
        case "$want:$line" in
            deny:*" result=ERR "*) XS_DENIED=$((XS_DENIED + 1)) ;;
            ok:*" result=OK "*) ;;
            *) fail "guest xenstore request, expected $want: ${line:-no answer}"; return 1 ;;
        esac
    done < $E2E_TMP/xs.req
}
sc_pvh_guest_cannot_steer() {
    local d0 i=0 p bad pc
    guest_ensure pvh && guest_rate $RATE_BUSY || return 1
    sleep 1
    d0=$(domid_of $GUEST)
    pc=/libxl/$d0/precopy
    MIG_BG=1; xl_migrate $NEVER_ENDS; MIG_BG=
    while [ $i -lt 240 ] && ! xenstore-read $pc/phase > /dev/null 2>&1; do
        sleep 0.25; i=$((i + 1))
    done
    xenstore-ls -p /libxl/$d0 > $E2E_TMP/xsperm.txt 2>&1 ||
        { fail "no /libxl/$d0 during the migration"; wait $MIG_PID; return 1; }
    sed 's/^/E2E-LOG xenstore: /' $E2E_TMP/xsperm.txt
    # every node: owner 0, nobody else ("(n0)"), and the control's there
    bad=$(grep -v '(n0) *$' $E2E_TMP/xsperm.txt)
    [ -z "$bad" ] || { fail "a node is not dom0's alone: $bad"; wait $MIG_PID; return 1; }
    grep -q '^ *phase = "precopy"' $E2E_TMP/xsperm.txt ||
        { fail "no precopy phase node under /libxl/$d0"; wait $MIG_PID; return 1; }
    rm -f $E2E_TMP/xs.req
    for p in /libxl /libxl/$d0 $pc $pc/phase $pc/pid; do xs_add deny read $p; done
    for p in /libxl /libxl/$d0 $pc; do xs_add deny dir $p; done
    xs_add deny perms $pc/phase
    for p in $pc/abort $pc/switchover $pc/phase $pc/x /libxl/$d0/x /libxl/x; do xs_add deny write $p 1; done
    xs_add deny write $pc/downtime-ms 60000
    xs_add deny mkdir $pc/abort
    xs_add deny mkdir /libxl/$d0/y
    for p in $pc/phase $pc/pid $pc; do xs_add deny rm $p; done
    # its own area: the top is read-only to it (refused), data/ is its
    # own (allowed): both must change nothing
    xs_add deny write /local/domain/$d0/precopy/abort 1
    for p in data/precopy/abort data/precopy/switchover data/libxl/precopy/abort; do
        xs_add ok write /local/domain/$d0/$p 1
    done
    xs_add ok write /local/domain/$d0/data/precopy/downtime-ms 60000
    xs_add ok read /local/domain/$d0/domid
    xs_run || { wait $MIG_PID; return 1; }
    # still in precopy after the guest's last request, the nodes unchanged
    [ "$(xenstore-read $pc/phase 2>/dev/null)" = precopy ] ||
        { fail "precopy had ended before the guest's requests were through: nothing tested"; wait $MIG_PID; return 1; }
    xenstore-ls -p /libxl/$d0 | cmp -s - $E2E_TMP/xsperm.txt ||
        { fail "the nodes changed: $(xenstore-ls -p /libxl/$d0 | tr '\n' ' ')"; wait $MIG_PID; return 1; }
    # dom0's control still works: end precopy
    xl migrate-ctl $GUEST switchover > $E2E_TMP/ctl.log 2>&1 ||
        { fail "xl migrate-ctl switchover: $(cat $E2E_TMP/ctl.log)"; kill $MIG_PID; wait $MIG_PID; return 1; }
    wait $MIG_PID
    mig_done $?
    [ $MIG_RC -eq 0 ] || { xl_tail 20; fail "xl migrate exited with $MIG_RC"; return 1; }
    [ "$(domid_of $GUEST)" != "$d0" ] || { fail "the guest did not move"; return 1; }
    guest_verify || return 1
    expect_reason "stop and copy (requested)" || return 1
    rounds_log | grep -q -e 'abort' -e 'downtime target' && { fail "the guest's requests were obeyed"; return 1; }
    [ "$(rounds_log | grep -c 'requested')" -eq 1 ] || { fail "more than dom0's one request acted on"; return 1; }
    xenstore-ls /libxl/$d0 > /dev/null 2>&1 && { fail "/libxl/$d0 is left after the migration: $(xenstore-ls -p /libxl/$d0 | tr '\n' ' ')"; return 1; }
    xenstore-read /libxl/$(domid_of $GUEST)/precopy/phase > /dev/null 2>&1 && { fail "a precopy node for the new domain"; return 1; }
    guest_errors || return 1
    R_NOTE="$XS_DENIED guest requests to /libxl refused; nodes n0 only, gone after; $(last_round | sed 's/.*: //')"
}

# The pipeline's negative control: a receiver that damages memtest's page
# 100 on its way in (progress-shim.so's read() with E2E_CORRUPT_PAGE, in
# the receiving xl and its restore helper) must make the guest's verify
# FAIL.  Every copy of that page is damaged, so that one sent again in a
# later round does not repair it (damaging the 100th memtest page read
# once passed a CI run's verify: that copy was sent again, or was one in
# a frame the guest no longer used).  The guest is destroyed after it
# (its memory is bad by design).
sc_pvh_corrupt_control() {
    guest_ensure pvh || return 1
    sleep 1
    RECV_CMD="env E2E_CORRUPT_PAGE=100 LD_PRELOAD=$SHIM xl migrate-receive"
    migrate || { RECV_CMD=; return 1; }
    RECV_CMD=
    grep -a 'e2e-corrupt-shim' $E2E_TMP/migrate.log | sed 's/^/E2E-LOG xl: /'
    grep -aq 'e2e-corrupt-shim: flipped' $E2E_TMP/migrate.log || {
        guest_destroy; fail "the receiver's shim found no copy of memtest page 100 to damage"; return 1; }
    if guest_verify 120; then
        fail "a page damaged on the way was not detected: the pipeline cannot catch a bad migration"
        guest_destroy; return 1
    fi
    case $V_LINE in
        *" result=FAIL "*" bad=1 "*) ;;
        *) guest_destroy; FAIL_WHY=; fail "not one bad page: ${V_LINE:-no answer}"; return 1 ;;
    esac
    glog | grep -a '^E2E ERROR verify' | tail -n 1 | sed 's/^/E2E-LOG guest: /'
    # the errors above are this scenario's proof, not a failure
    FAIL_WHY= ERR_BASE=$(errors_now)
    guest_destroy
    R_NOTE="one page damaged in the stream: verify FAIL bad=1"
}

# --- issue 16: a recorded dirty trace against a real migration ----------

# For each rate of FID_RATES (pages/s): the guest is migrated for real with
# a fixed policy, FID_POLICY: 4 live rounds (--dirty-target 1: the default
# 50 pages would end it at a round count that flips with the guest
# kernel's own 20 to 90 pages a round: 3 real rounds against 5 replayed
# was seen on a loaded host with the default rule),
# then xen-dirty-record records its dirtying at the same rate (the log
# read and cleared every FID_INTERVAL_MS) into a trace.  precopy-sim
# replays the trace through the same save loop and engine (-p engine --sla
# 0 and the same options: no downtime target, the same rule) on the link the real
# migration measured: round 0's rate (its pages over its time: from
# libxl's phase node, /libxl/<domid>/precopy/phase, "precopy" when the save
# starts, seen through xenstore-watch, to xl's line of round 0), then the
# engine's bandwidth estimate at the end of round 1.  (On one rate, the
# precopy's pages over its time, round 1 came out twice the real one at
# 2000 pages/s: round 0 is slower than the link, as it also walks the
# whole p2m; that replay is printed too, not checked.)  The recording comes after the migration so that it
# can be as long as the migration's precopy: the replay loops the trace,
# and memtest's writes cover its 4096 pages only after 4096/rate seconds,
# so a trace shorter than round 0 would make round 1 too small (seen: a
# 3 s trace at 200 pages/s gave 667 pages against the real 1280).  Its
# length: the precopy time + 1 s, but no more than 4096/rate + 1 s (then
# the loop replays the same pages the guest rewrites) and FID_REC_MAX_S.
# Compared: the live rounds, and the pages of the live rounds after round
# 0 (round 0 sends all of memory on both sides): within FID_ROUNDS_TOL
# rounds and FID_TOL_PCT % of the real ones.  The stop-and-copy round is
# printed, not checked: the guest runs on while the sender suspends it
# (over 1 s under TCG), which the simulator does not model.  Negative
# controls: a trace cut short is refused by precopy-sim, and each
# migration compared with the other rate's trace must fail the same
# tolerance (the check tells the rates apart).  The traces go to the
# host's log folder (E2E-FILE blocks, base64; tests/e2e/run decodes them).
FID_RATES=${E2E_FID_RATES:-"200 2000"}
FID_POLICY="--max-rounds 4 --dirty-target 1"
FID_INTERVAL_MS=20
FID_REC_MAX_S=12
# seen: the replay 4% to 50% off, the controls 72% to 400% (docs/fidelity.md)
FID_TOL_PCT=60
FID_ROUNDS_TOL=1

# fid_watch_start DOMID / fid_watch_stop: when (s since boot) libxl's
# precopy phase node changed, and to what, in $E2E_TMP/phase.log; and when
# xl printed round 0's line (round 0 ended), polled every 0.2 s, in
# $E2E_TMP/round0.log
fid_watch_start() {
    rm -f $E2E_TMP/phase.fifo $E2E_TMP/phase.log $E2E_TMP/round0.log $E2E_TMP/migrate.log $E2E_TMP/fid.stop
    mkfifo $E2E_TMP/phase.fifo
    while read -r p; do
        echo "$(uptime_s) $(xenstore-read $p 2>/dev/null || echo -)"
    done < $E2E_TMP/phase.fifo > $E2E_TMP/phase.log &
    FID_RPID=$!
    xenstore-watch /libxl/$1/precopy/phase > $E2E_TMP/phase.fifo 2>/dev/null &
    FID_WPID=$!
    while [ ! -f $E2E_TMP/fid.stop ]; do
        if grep -q '^migration sender: round 0: ' $E2E_TMP/migrate.log 2>/dev/null; then
            uptime_s > $E2E_TMP/round0.log
            break
        fi
        sleep 0.2
    done &
    FID_PPID=$!
}
fid_watch_stop() {
    : > $E2E_TMP/fid.stop
    kill $FID_WPID 2>/dev/null
    wait $FID_WPID $FID_RPID $FID_PPID 2>/dev/null
    sed 's/^/E2E-LOG phase: /' $E2E_TMP/phase.log
    log "round 0's line at $(cat $E2E_TMP/round0.log 2>/dev/null || echo -)"
}

# fid_real: the last migration's figures from xl's lines: FR_ROUNDS (live
# rounds), FR_LIST (pages of each), FR_LATER (their sum after round 0),
# FR_STOP (the stop-and-copy round's pages, libxenguest's last progress
# line), FR_EST (the engine's last bandwidth estimate, pages/s); from the
# watch: FR_SECS (precopy's time), FR_PPS (its pages over its time), FR_T0
# (round 0's time), FR_PPS0 (round 0's pages over its time: it also walks
# the whole p2m, 1044480 pfns, and turns log-dirty on) and FR_PPS1 (the
# engine's bandwidth estimate at the end of round 1, libxl's "precopy:
# round 1, ..." line: the link as the later rounds saw it)
fid_real() {
    local t0 r0
    FR_LIST=$(rounds_log | sed -n 's/^migration sender: round [0-9]*: \([0-9]*\) pages sent.*/\1/p' | tr '\n' ' ')
    FR_LIST=${FR_LIST% }
    FR_ROUNDS=$(echo $FR_LIST | wc -w)
    FR_LATER=$(echo $FR_LIST | awk '{ s = 0; for (i = 2; i <= NF; i++) s += $i; print s }')
    FR_STOP=$(tr '\r' '\n' < $E2E_TMP/migrate.log | sed -n 's/.*Frames iteration [0-9]*: [0-9]*\/\([0-9]*\) .*/\1/p' | tail -n 1)
    FR_EST=$(grep -a 'precopy: round [0-9]*, ' $E2E_TMP/migrate.log | tail -n 1 |
        sed -n 's/.* dirty, \([0-9]*\) pages\/s, .*/\1/p')
    r0=$(cat $E2E_TMP/round0.log 2>/dev/null)
    set -- $(awk -v r0=${r0:-0} '$2 == "precopy" && !a { a = $1 } $2 == "stop-and-copy" && !b { b = $1 }
        END { if (a && b > a) printf "%.2f %.2f", b - a, (r0 > a && r0 <= b) ? r0 - a : 0 }' $E2E_TMP/phase.log)
    FR_SECS=$1 FR_T0=$2
    FR_PPS1=$(grep -a 'precopy: round 1, ' $E2E_TMP/migrate.log | tail -n 1 |
        sed -n 's/.* dirty, \([0-9]*\) pages\/s, .*/\1/p')
    set -- $(echo $FR_LIST | awk -v s=${FR_SECS:-0} -v t0=${FR_T0:-0} -v p1=${FR_PPS1:-0} '{
        n = 0; for (i = 1; i <= NF; i++) n += $i
        if (s > 0) printf "%d", n / s
        if (t0 > 0 && p1 > 0 && NF > 1) printf " %d", $1 / t0 }')
    FR_PPS=$1 FR_PPS0=$2
    [ -n "$FR_PPS0" ] || FR_PPS1=
}

# fid_sim TRACE PPS [T0 PPS1]: replay TRACE on a link of PPS pages/s (from
# T0 s on, PPS1); FS_* as FR_*
fid_sim() {
    local mbit drop=
    mbit=$(awk -v p=$2 'BEGIN { printf "%.3f", p * 4096 * 8 / 1e6 }')
    [ -n "$4" ] && drop="--link-drop $(awk -v t=$3 -v p=$4 'BEGIN { printf "%s:%.3f", t, p * 4096 * 8 / 1e6 }')"
    FS_JSON=$(precopy-sim -t $1 --link-mbit $mbit $drop -p engine --sla 0 $FID_POLICY --json 2>&1) || return 1
    FS_LIST=$(echo "$FS_JSON" | sed -n 's/.*"round_pages":\[\([0-9,]*\)\].*/\1/p' | tr ',' ' ')
    FS_ROUNDS=$(echo $FS_LIST | wc -w)
    FS_LATER=$(echo $FS_LIST | awk '{ s = 0; for (i = 2; i <= NF; i++) s += $i; print s }')
    FS_STOP=$(echo "$FS_JSON" | sed -n 's/.*"stopcopy_pages":\([0-9]*\).*/\1/p')
    [ "$FS_ROUNDS" -gt 0 ] && [ -n "$FS_STOP" ]
}

# fid_within: the replay's rounds and later pages within tolerance of the real ones
fid_within() {
    awk -v rr=$FR_ROUNDS -v sr=$FS_ROUNDS -v rl=$FR_LATER -v sl=$FS_LATER \
        -v tr=$FID_ROUNDS_TOL -v tp=$FID_TOL_PCT 'BEGIN {
        d = rr - sr; if (d < 0) d = -d
        e = rl - sl; if (e < 0) e = -e
        exit !(d <= tr && rl > 0 && e * 100 <= tp * rl) }'
}

# fid_file NAME FILE: FILE to the host's log folder, base64 (E2E-FILE)
fid_file() {
    echo "E2E-FILE-BEGIN $1.b64"
    base64 $2 | sed 's/^/E2E-FILE| /'
    echo "E2E-FILE-END $1.b64"
}

sc_pvh_trace_fidelity() {
    local rate secs d t info n other tr notes= size seq0 seq1 wrote
    guest_ensure pvh || return 1
    for rate in $FID_RATES; do
        guest_rate $rate || return 1
        sleep 1
        fid_watch_start $(domid_of $GUEST)
        migrate $FID_POLICY
        n=$?
        fid_watch_stop
        [ $n -eq 0 ] || return 1
        guest_verify || return 1
        guest_errors || return 1
        seq0=$(echo "$V_LINE" | sed -n 's/.* seq=\([0-9]*\).*/\1/p')
        rounds_log | sed 's/^/E2E-LOG xl: /'
        fid_real
        [ -n "$FR_PPS" ] && [ "$FR_PPS" -gt 0 ] || { fail "no precopy time from libxl's phase node (rate $rate)"; return 1; }
        secs=$(awk -v p=$FR_SECS -v r=$rate -v m=$FID_REC_MAX_S 'BEGIN {
            s = p + 1; c = 4096 / r + 1; if (c < s) s = c; if (m < s) s = m
            printf "%.1f", s }')
        d=$(domid_of $GUEST)
        t=$E2E_TMP/fid-$rate.trace
        rm -f $t
        xen-dirty-record -i $FID_INTERVAL_MS -d $secs -o $t \
            -c "e2e pvh_trace_fidelity: memtest at $rate pages/s ($E2E_PAGES pages), domain $d" $d \
            > $E2E_TMP/rec.log 2>&1 || { sed 's/^/E2E-LOG rec: /' $E2E_TMP/rec.log; fail "xen-dirty-record failed (rate $rate)"; return 1; }
        info=$(precopy-sim --trace-info $t 2>&1) || { fail "the trace of rate $rate is not readable: $info"; return 1; }
        echo "$info" | sed 's/^/E2E-LOG trace: /'
        # what memtest wrote while it was recorded (its seq; the trace's
        # own count has the kernel's pages rewritten every record)
        guest_verify || return 1
        seq1=$(echo "$V_LINE" | sed -n 's/.* seq=\([0-9]*\).*/\1/p')
        wrote=$((${seq1:-0} - ${seq0:-0}))
        # not empty: the guest's writes are in it (at least half its
        # rate); short of that while memtest wrote less than 0.9 of its
        # rate, the recording slowed it (a slow host): the known failure
        if ! echo "$info" | awk -v r=$rate '/pages\/s .* dirtied/ { for (i = 1; i < NF; i++) if ($(i + 1) == "pages/s") ok = $i >= r / 2 } END { exit !ok }'; then
            R_NOTE="the trace of rate $rate holds fewer than $((rate / 2)) dirty pages/s; memtest wrote $wrote pages in ${secs}s"
            log "$R_NOTE"
            awk -v w=$wrote -v r=$rate -v s=$secs 'BEGIN { exit !(w >= r * s * 0.9) }' &&
                { fail "the trace of rate $rate holds fewer than $((rate / 2)) dirty pages/s"; return 1; }
            fail "$FID_KNOWN"; return 1
        fi
        # the guest wrote at its rate while it was recorded
        awk -v w=$wrote -v r=$rate -v s=$secs 'BEGIN { exit !(w >= r * s / 2) }' ||
            { fail "memtest wrote $wrote pages while recorded for ${secs}s at $rate pages/s"; return 1; }
        size=$(wc -c < $t)
        fid_file fid-$rate.trace $t
        # the replay on one link rate (precopy's average), then on two
        # (round 0's, then the engine's at round 1): the second is checked
        fid_sim $t $FR_PPS || { fail "precopy-sim could not replay the trace of rate $rate: $FS_JSON"; return 1; }
        log "sim, one link rate: $FS_JSON"
        echo "e2e-fidelity: rate $rate precopy ${FR_SECS}s round0 ${FR_T0}s link $FR_PPS pages/s (round 0 ${FR_PPS0:--}, engine at round 1 ${FR_PPS1:--}, at the end $FR_EST) trace ${secs}s $size bytes real rounds $FR_ROUNDS pages $FR_LIST stop $FR_STOP"
        echo "e2e-fidelity: rate $rate sim, link $FR_PPS pages/s: rounds $FS_ROUNDS pages $FS_LIST stop $FS_STOP"
        if [ -n "$FR_PPS1" ]; then
            fid_sim $t $FR_PPS0 $FR_T0 $FR_PPS1 || { fail "precopy-sim could not replay the trace of rate $rate: $FS_JSON"; return 1; }
            log "sim, two link rates: $FS_JSON"
            echo "e2e-fidelity: rate $rate sim, link $FR_PPS0 then $FR_PPS1 pages/s from ${FR_T0}s: rounds $FS_ROUNDS pages $FS_LIST stop $FS_STOP"
        fi
        eval "FID_R_$rate=\"\$FR_ROUNDS \$FR_LATER \$FR_PPS \$FR_T0 \$FR_PPS0 \$FR_PPS1\""
        fid_within || { R_NOTE="the replay of rate $rate is off: rounds $FS_ROUNDS against $FR_ROUNDS, pages after round 0 $FS_LATER against $FR_LATER (tolerance $FID_ROUNDS_TOL rounds, $FID_TOL_PCT %)"; log "$R_NOTE"; fail "$FID_KNOWN"; return 1; }
        notes="${notes:+$notes; }$rate p/s: rounds $FR_ROUNDS/$FS_ROUNDS, later pages $FR_LATER/$FS_LATER"
    done
    # negative controls: a trace cut short is refused; the other rate's
    # trace fails the tolerance
    for rate in $FID_RATES; do
        tr=$E2E_TMP/fid-$rate.trace
        head -c $(($(wc -c < $tr) - 3)) $tr > $E2E_TMP/fid-cut.trace
        precopy-sim --trace-info $E2E_TMP/fid-cut.trace > $E2E_TMP/cut.log 2>&1 &&
            { fail "a trace cut short by 3 bytes was accepted"; return 1; }
        log "cut trace refused: $(head -n 1 $E2E_TMP/cut.log)"
        for other in $FID_RATES; do
            [ $other = $rate ] && continue
            eval "set -- \$FID_R_$rate"
            FR_ROUNDS=$1 FR_LATER=$2
            if [ -n "$6" ]; then set -- $5 $4 $6; else set -- $3; fi
            fid_sim $E2E_TMP/fid-$other.trace "$@" || { fail "precopy-sim could not replay the trace of rate $other"; return 1; }
            log "control: the migration at $rate against the trace of $other: rounds $FS_ROUNDS against $FR_ROUNDS, pages after round 0 $FS_LATER against $FR_LATER"
            fid_within && { R_NOTE="the trace of rate $other passed for the migration at $rate"; log "$R_NOTE"; fail "$FID_KNOWN"; return 1; }
        done
    done
    R_NOTE="$notes; controls failed as they must"
}
