/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The switchover learnt, from migration to migration: the tables which
 * test_engine.c runs against libxl's learning (patches 33 and 34) and
 * test_xl.c against xl's, per destination (patch 35, where it moved).
 * The includer defines SO_SHARE (a share's type), SO_PARSE, SO_TEXT,
 * SO_ADD, SO_MEDIAN, SO_DEFAULT (what the next migration counts, from
 * both shares), SO_TEXT_MAX, SO_CEIL_MS and SO_GUEST.
 */

/*
 * The switchover a save which is given none counts, as libxl learns it
 * on a host from save to save: dom0's shares (the device state, the
 * receiver's), each the median of its last 5 measurements, 2000 ms at
 * most, from the text of its xenstore node; plus a fixed allowance for
 * the guest's suspend, which is never learnt.
 *
 * Beside it, the rule before: the sender's share with the guest's
 * suspend in it, each share learnt as it recently reached (a longer one
 * at once, a shorter one halving the difference), the node one number.
 * as_before: the rule before gives the same; the other rows fail
 * without the patch (build with -DTEST_SWITCHOVER_OLD_RULE to see them
 * fail against it).
 */
struct so_save {
    uint32_t suspend_ms, device_ms, receiver_ms;
};

struct so_case {
    const char *name;
    const char *sender, *receiver;     /* the nodes before (NULL: none) */
    unsigned int n;                    /* saves, then */
    struct so_save save[8];
    uint32_t expect;                   /* what the next save counts */
    bool as_before;
};

/* The node as the rule before read it: 1 to UINT32_MAX, or nothing. */
static uint32_t so_old_parse(const char *text)
{
    uint64_t v = 0;

    if (!text || !*text)
        return 0;
    for (; *text; text++) {
        if (*text < '0' || *text > '9')
            return 0;
        v = v * 10 + (*text - '0');
        if (v > UINT32_MAX)
            return 0;
    }
    return v;
}

static uint32_t so_old_learn(uint32_t old, uint32_t ms)
{
    uint64_t v = ms >= old ? ms : ((uint64_t)old + ms + 1) / 2;

    return v ? v : 1;
}

static uint32_t so_old_rule(const struct so_case *t)
{
    uint32_t s = so_old_parse(t->sender), r = so_old_parse(t->receiver);
    unsigned int i;

    for (i = 0; i < t->n; i++) {
        s = so_old_learn(s, t->save[i].suspend_ms + t->save[i].device_ms);
        r = so_old_learn(r, t->save[i].receiver_ms);
    }
    return (uint64_t)s + r > UINT32_MAX ? UINT32_MAX : s + r;
}

/* As libxl does it: each save reads the node, adds, writes it back. */
static void so_learn(char text[SO_TEXT_MAX],
                     uint32_t ms)
{
    SO_SHARE sh;

    SO_PARSE(text, &sh);
    SO_ADD(&sh, ms);
    SO_TEXT(&sh, text);
}

static uint32_t so_new_rule(const struct so_case *t,
                            char sender[SO_TEXT_MAX],
                            char receiver[SO_TEXT_MAX])
{
    SO_SHARE s, r;
    unsigned int i;

    snprintf(sender, SO_TEXT_MAX, "%s",
             t->sender ? t->sender : "");
    snprintf(receiver, SO_TEXT_MAX, "%s",
             t->receiver ? t->receiver : "");
    for (i = 0; i < t->n; i++) {
        /* (the guest's suspend, t->save[i].suspend_ms, is not learnt) */
        so_learn(sender, t->save[i].device_ms);
        so_learn(receiver, t->save[i].receiver_ms);
    }
    SO_PARSE(sender, &s);
    SO_PARSE(receiver, &r);
    return SO_DEFAULT(&s, &r);
}

static void test_switchover_learn(void **state)
{
    static const struct so_case cases[] = {
        /* sender 150, receiver 250, whatever guest A's suspend */
        { "a slow-suspending guest does not move what is learnt",
          NULL, NULL, 5,
          { { 40, 150, 250 }, { 40, 150, 250 }, { 40, 150, 250 },
            { 5600, 160, 260 }, { 40, 150, 250 } },
          150 + 250 + SO_GUEST },
        /* before: 5494 + 352 learnt, B's target of 2137 out of reach */
        { "guest A suspends in 5340 ms: guest B's next save counts "
          "dom0's shares",
          NULL, NULL, 1, { { 5340, 154, 352 } }, 154 + 352 + SO_GUEST },
        { "one outlier among five does not move the median",
          NULL, NULL, 5,
          { { 100, 200, 300 }, { 100, 200, 300 }, { 100, 1900, 1950 },
            { 100, 200, 300 }, { 100, 200, 300 } },
          200 + 300 + SO_GUEST },
        { "the ceiling holds: five saves of 9 s each share",
          NULL, NULL, 5,
          { { 100, 9000, 9000 }, { 100, 9000, 9000 }, { 100, 9000, 9000 },
            { 100, 9000, 9000 }, { 100, 9000, 9000 } },
          2 * SO_CEIL_MS + SO_GUEST },
        { "a host which became faster: learnt once most of the last five "
          "are",
          NULL, NULL, 8,
          { { 100, 800, 300 }, { 100, 800, 300 }, { 100, 800, 300 },
            { 100, 800, 300 }, { 100, 800, 300 }, { 100, 100, 300 },
            { 100, 100, 300 }, { 100, 100, 300 } },
          100 + 300 + SO_GUEST },
        { "nothing learnt yet: the guest's allowance alone",
          NULL, NULL, 0, { { 0 } }, SO_GUEST },
        { "an older libxl's node over the ceiling (5494): refused",
          "5494", "352", 0, { { 0 } }, 352 + SO_GUEST },
        { "an older libxl's node within it: one measurement",
          "300", "352", 1, { { 100, 200, 300 } }, 300 + 352 + SO_GUEST },
        /* hostile nodes, then one save of 150 ms and 300 ms */
        { "huge value: refused", "4000000000", NULL, 1,
          { { 100, 150, 300 } }, 150 + 300 + SO_GUEST },
        { "0: refused, as before", "0", NULL, 1,
          { { 100, 150, 300 } }, 150 + 300 + SO_GUEST, true },
        { "malformed value 12abc: refused, as before", "12abc", NULL, 1,
          { { 100, 150, 300 } }, 150 + 300 + SO_GUEST, true },
        { "negative value: refused, as before", "-5", NULL, 1,
          { { 100, 150, 300 } }, 150 + 300 + SO_GUEST, true },
        { "overflowing value: refused, as before", "4294967296", "-1", 1,
          { { 100, 150, 300 } }, 150 + 300 + SO_GUEST, true },
        { "five hostile values in one node: all refused",
          "4000000000 0 12abc -5 4294967296",
          "99999999999999999999 2001 0x10 1e3 +5", 1,
          { { 100, 150, 300 } }, 150 + 300 + SO_GUEST, true },
        /* the control */
        { "a guest suspending in its allowance, steady hosts: as before",
          NULL, NULL, 5,
          { { 100, 120, 300 }, { 100, 120, 300 }, { 100, 120, 300 },
            { 100, 120, 300 }, { 100, 120, 300 } },
          120 + 300 + SO_GUEST, true },
    };
    char sender[SO_TEXT_MAX];
    char receiver[SO_TEXT_MAX];
    unsigned int c, failed = 0;
    uint32_t got, old;

    for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const struct so_case *t = &cases[c];

        got = so_new_rule(t, sender, receiver);
        old = so_old_rule(t);
#ifdef TEST_SWITCHOVER_OLD_RULE
        got = old;
        snprintf(sender, sizeof(sender), "(the rule before)");
        receiver[0] = '\0';
#else
        if ((old == t->expect) != t->as_before) {
            print_error("%s: the rule before counts %u ms: %s\n", t->name,
                        old, t->as_before ? "not as before" :
                        "the row shows no change");
            failed++;
        }
#endif
        if (got != t->expect) {
            print_error("%s: expected %u ms, got %u (sender '%s', "
                        "receiver '%s')\n", t->name, t->expect, got,
                        sender, receiver);
            failed++;
        }
    }
    assert_int_equal(failed, 0);
}

/*
 * A share's node, as libxl reads it: whole numbers of ms from 1 to the
 * ceiling, digits only, separated by a space, the newest 5 kept; any
 * other value is left out, and counted for libxl's message.
 */
static void test_switchover_parse(void **state)
{
    static const struct {
        const char *text;
        unsigned int refused;
        const char *kept;
    } t[] = {
        { NULL, 0, "" },
        { "", 0, "" },
        { "250", 0, "250" },
        { "1 2000", 0, "1 2000" },
        { "100 200 300", 0, "100 200 300" },
        { "0100", 0, "100" },
        { "100  200 ", 0, "100 200" },
        { "4000000000", 1, "" },                /* huge */
        { "2001", 1, "" },                      /* over the ceiling */
        { "0", 1, "" },
        { "12abc", 1, "" },
        { "-5", 1, "" },
        { "4294967296", 1, "" },                /* overflows 32 bits */
        { "18446744073709551617", 1, "" },      /* and 64 */
        { "+5", 1, "" },
        { "0x10", 1, "" },
        { "1e3", 1, "" },
        { "100\n", 1, "" },
        { "100,200", 1, "" },
        { "100 0 200", 1, "100 200" },
        { "100 12abc 200 -5 4294967296 300", 3, "100 200 300" },
        { "1 2 3 4 5 6 7", 2, "3 4 5 6 7" },    /* the newest 5 */
    };
    SO_SHARE sh;
    char text[SO_TEXT_MAX];
    unsigned int i, n, failed = 0;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        memset(&sh, 0x5a, sizeof(sh));
        n = SO_PARSE(t[i].text, &sh);
        SO_TEXT(&sh, text);
        if (n != t[i].refused || strcmp(text, t[i].kept)) {
            print_error("'%s': expected %u refused, '%s' kept; got %u, "
                        "'%s'\n", t[i].text ? t[i].text : "(none)",
                        t[i].refused, t[i].kept, n, text);
            failed++;
        }
    }
    assert_int_equal(failed, 0);

    /* A measurement counts as 1 ms to the ceiling; the oldest goes. */
    SO_PARSE("2000 1 7 8 9", &sh);
    SO_ADD(&sh, 0);
    SO_TEXT(&sh, text);
    assert_string_equal(text, "1 7 8 9 1");
    assert_int_equal(SO_MEDIAN(&sh), 7);
    SO_ADD(&sh, UINT64_MAX);
    SO_TEXT(&sh, text);
    assert_string_equal(text, "7 8 9 1 2000");
    assert_int_equal(SO_MEDIAN(&sh), 8);
    /* The longer middle one of an even number; none: 0. */
    SO_PARSE("300 100", &sh);
    assert_int_equal(SO_MEDIAN(&sh), 300);
    SO_PARSE(NULL, &sh);
    assert_int_equal(SO_MEDIAN(&sh), 0);
    /* The next save counts both medians and the guest's allowance. */
    {
        SO_SHARE r;

        SO_PARSE("40 50 60", &sh);
        SO_PARSE("2000 2000 2000 2000 2000", &r);
        assert_int_equal(SO_DEFAULT(&sh, &r),
                         50 + 2000 + SO_GUEST);
        assert_int_equal(SO_DEFAULT(&r, &sh),
                         50 + 2000 + SO_GUEST);
    }
}
