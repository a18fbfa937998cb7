/* Tests of the safe XML parser (src/io/xml.c) and base64 decoder: well-formed
 * input, the attacks it must refuse (entity expansion, deep nesting) and the
 * malformed input it must report with a byte offset. */
#include "io/xml_int.h"
#include "test.h"

static aiecg_status parse(const char *s, aiecg__xml_doc **d, aiecg_error *err) {
    return aiecg__xml_parse((const uint8_t *)s, strlen(s), NULL, d, err);
}

static void test_basic(void) {
    const char *s = "<?xml version=\"1.0\"?>\n<!-- c --><!DOCTYPE r SYSTEM \"x.dtd\">"
                    "<v3:r xmlns:v3=\"urn:x\" a='1 &amp; 2' b=\"&#x41;&#66;\">"
                    "<c>  hello &lt;world&gt; </c><c n=\"2\"><![CDATA[<raw>&amp;]]></c>"
                    "<e/><d><c>deep</c></d></v3:r>";
    aiecg__xml_doc *d = NULL;
    aiecg_error err = {0};
    CHECK_OK(parse(s, &d, &err), &err);
    if (!d) return;
    aiecg__xml_node *r = aiecg__xml_root(d);
    CHECK_STR(r->name, "r");
    CHECK_STR(r->qname, "v3:r");
    CHECK_STR(aiecg__xml_get_attr(r, "a"), "1 & 2");
    CHECK_STR(aiecg__xml_get_attr(r, "b"), "AB");
    aiecg__xml_node *c = aiecg__xml_child(r, "c");
    CHECK_STR(c->text, "hello <world>");
    aiecg__xml_node *c2 = aiecg__xml_next_named(c, "c");
    CHECK(c2 != NULL);
    if (c2) {
        CHECK_STR(c2->text, "<raw>&amp;");
        CHECK_STR(aiecg__xml_get_attr(c2, "n"), "2");
    }
    CHECK(aiecg__xml_child(r, "e") != NULL);
    CHECK_STR(aiecg__xml_path_text(r, "d/c"), "deep");
    CHECK_STR(aiecg__xml_find(r, "d")->first->text, "deep");
    char buf[64];
    CHECK_STR(aiecg__xml_node_path(aiecg__xml_path(r, "d/c"), buf, sizeof buf), "/r/d/c");
    aiecg__xml_free(d);
}

static void expect_fail(const char *s, aiecg_status want, const char *needle) {
    aiecg__xml_doc *d = NULL;
    aiecg_error err = {0};
    aiecg_status st = parse(s, &d, &err);
    CHECK_INT(st, want);
    CHECK(d == NULL);
    if (!strstr(err.message, needle)) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", err.message, needle);
        CHECK(0);
    }
    aiecg__xml_free(d);
}

static void test_billion_laughs(void) {
    const char *s = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
                    " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
                    " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
                    " <!ENTITY lol9 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
                    "]>\n<lolz>&lol9;</lolz>";
    expect_fail(s, AIECG_ERR_UNSUPPORTED, "undefined entity '&lol9;'");
    /* External entity (XXE) is never fetched either. */
    expect_fail("<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>", AIECG_ERR_UNSUPPORTED,
                "DTD entities are not processed");
    /* Entity in an attribute value. */
    expect_fail("<r a=\"&x;\"/>", AIECG_ERR_UNSUPPORTED, "byte offset 6");
}

static void test_depth(void) {
    char *s = malloc(300 * 7 + 10);
    size_t w = 0;
    for (int i = 0; i < 300; i++) w += (size_t)sprintf(s + w, "<a>");
    for (int i = 0; i < 300; i++) w += (size_t)sprintf(s + w, "</a>");
    s[w] = 0;
    expect_fail(s, AIECG_ERR_LIMIT, "nesting deeper than 256");
    /* A limit set by the caller. */
    aiecg__xml_limits lim = {0};
    lim.max_depth = 400;
    aiecg__xml_doc *d = NULL;
    aiecg_error err = {0};
    CHECK_OK(aiecg__xml_parse((const uint8_t *)s, w, &lim, &d, &err), &err);
    aiecg__xml_free(d);
    free(s);
    aiecg__xml_limits lim2 = {0};
    lim2.max_attrs = 2;
    const char *t = "<r a=\"1\" b=\"2\" c=\"3\"/>";
    CHECK_INT(aiecg__xml_parse((const uint8_t *)t, strlen(t), &lim2, &d, &err), AIECG_ERR_LIMIT);
}

static void test_malformed(void) {
    expect_fail("<r><a>text</a>", AIECG_ERR_TRUNCATED, "ends inside <r>");
    expect_fail("<r><a>text</b></r>", AIECG_ERR_FORMAT, "does not match <a>");
    expect_fail("<r a=\"1\" a=\"2\"/>", AIECG_ERR_FORMAT, "duplicate attribute");
    expect_fail("<r>x</r><r/>", AIECG_ERR_FORMAT, "second root");
    expect_fail("<r>&#0;</r>", AIECG_ERR_FORMAT, "invalid character reference");
    expect_fail("<r>&#x110000;</r>", AIECG_ERR_FORMAT, "invalid character reference");
    expect_fail("<r><!-- open", AIECG_ERR_TRUNCATED, "unterminated comment");
    expect_fail("", AIECG_ERR_FORMAT, "no root element");
    expect_fail("<r a=1/>", AIECG_ERR_FORMAT, "quoted attribute");
    expect_fail("<r>\xC3\x28</r>", AIECG_ERR_FORMAT, "invalid UTF-8 byte 0xC3 at byte offset 3");
    expect_fail("<r>\xED\xA0\x80</r>", AIECG_ERR_FORMAT, "byte offset 3");     /* surrogate */
    expect_fail("<r>\xC0\xAF</r>", AIECG_ERR_FORMAT, "byte offset 3");         /* overlong */
    expect_fail("<r>\xF4\x90\x80\x80</r>", AIECG_ERR_FORMAT, "byte offset 3"); /* > U+10FFFF */
}

static void test_encodings(void) {
    /* UTF-16LE and BE with BOM: "<r a="é">€</r>" */
    const char *txt = "<r a=\"\xC3\xA9\">\xE2\x82\xAC</r>";
    uint16_t u[] = {'<', 'r', ' ', 'a', '=', '"', 0xE9, '"', '>', 0x20AC, '<', '/', 'r', '>'};
    size_t n = sizeof u / sizeof u[0];
    for (int be = 0; be < 2; be++) {
        uint8_t b[64];
        b[0] = be ? 0xFE : 0xFF;
        b[1] = be ? 0xFF : 0xFE;
        for (size_t i = 0; i < n; i++) {
            b[2 + 2 * i + (be ? 1 : 0)] = (uint8_t)(u[i] & 0xFF);
            b[2 + 2 * i + (be ? 0 : 1)] = (uint8_t)(u[i] >> 8);
        }
        aiecg__xml_doc *d = NULL;
        aiecg_error err = {0};
        CHECK_OK(aiecg__xml_parse(b, 2 + 2 * n, NULL, &d, &err), &err);
        if (d) {
            CHECK_STR(aiecg__xml_get_attr(aiecg__xml_root(d), "a"), "\xC3\xA9");
            CHECK_STR(aiecg__xml_root(d)->text, "\xE2\x82\xAC");
            CHECK(aiecg__xml_transcoded(d));
        }
        aiecg__xml_free(d);
    }
    (void)txt;
    /* Unpaired surrogate in UTF-16 */
    uint8_t bad[] = {0xFF, 0xFE, '<', 0, 'r', 0, '>', 0, 0x00, 0xD8, '<', 0, '/', 0, 'r', 0, '>', 0};
    aiecg__xml_doc *d = NULL;
    aiecg_error err = {0};
    CHECK_INT(aiecg__xml_parse(bad, sizeof bad, NULL, &d, &err), AIECG_ERR_FORMAT);
    CHECK(strstr(err.message, "surrogate at byte 8") != NULL);
    /* ISO-8859-1 declared: byte E9 becomes U+00E9 */
    const char *l1 = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r>caf\xE9</r>";
    CHECK_OK(aiecg__xml_parse((const uint8_t *)l1, strlen(l1), NULL, &d, &err), &err);
    if (d) CHECK_STR(aiecg__xml_root(d)->text, "caf\xC3\xA9");
    aiecg__xml_free(d);
    /* UTF-8 BOM, CRLF normalised */
    const char *bom = "\xEF\xBB\xBF<r>a\r\nb\rc</r>";
    CHECK_OK(aiecg__xml_parse((const uint8_t *)bom, strlen(bom), NULL, &d, &err), &err);
    if (d) CHECK_STR(aiecg__xml_root(d)->text, "a\nb\nc");
    aiecg__xml_free(d);
}

static void test_pull(void) {
    const char *s = "<a x=\"1\"><b/>t</a>";
    aiecg__xml_reader *r;
    aiecg_error err = {0};
    CHECK_OK(aiecg__xml_reader_new(s, strlen(s), NULL, &r, &err), &err);
    aiecg__xml_event ev;
    const char *want[] = {"S:a", "S:b", "E:b", "T:t", "E:a"};
    int k = 0;
    while (aiecg__xml_next(r, &ev, &err) == AIECG_OK && ev != AIECG__XML_EOF && k < 5) {
        char got[32];
        if (ev == AIECG__XML_TEXT) snprintf(got, sizeof got, "T:%s", aiecg__xml_ev_text(r, NULL));
        else snprintf(got, sizeof got, "%c:%s", ev == AIECG__XML_START ? 'S' : 'E', aiecg__xml_ev_name(r));
        CHECK_STR(got, want[k]);
        if (k == 0) CHECK_STR(aiecg__xml_ev_attr(r, 0)->value, "1");
        k++;
    }
    CHECK_INT(k, 5);
    CHECK_INT(ev, AIECG__XML_EOF);
    aiecg__xml_reader_free(r);
}

/* Mixed content in many pieces must cost linear time and memory (a quadratic builder would take minutes here). */
static void test_mixed_content(void) {
    const int pieces = 200000;
    char *s = malloc((size_t)pieces * 5 + 16);
    size_t w = 0;
    w += (size_t)sprintf(s + w, "<a>");
    for (int i = 0; i < pieces; i++) w += (size_t)sprintf(s + w, "x<b/>");
    w += (size_t)sprintf(s + w, "</a>");
    aiecg__xml_doc *d = NULL;
    aiecg_error err = {0};
    CHECK_OK(aiecg__xml_parse((const uint8_t *)s, w, NULL, &d, &err), &err);
    if (d) CHECK_INT(aiecg__xml_root(d)->text_len, pieces);
    aiecg__xml_free(d);
    free(s);
}

static void test_base64(void) {
    uint8_t out[16];
    size_t n, bad;
    CHECK_INT(aiecg__base64_decode("SGVs\nbG8=", 9, out, sizeof out, &n, &bad), 0);
    CHECK_INT(n, 5);
    CHECK(memcmp(out, "Hello", 5) == 0);
    CHECK_INT(aiecg__base64_decode("SGV*", 4, out, sizeof out, &n, &bad), -1);
    CHECK_INT(bad, 3);
    CHECK_INT(aiecg__base64_decode("SGVsb", 5, out, sizeof out, &n, &bad), -1);
    CHECK_INT(aiecg__base64_decode("AAAAAAAA", 8, out, 3, &n, &bad), -1); /* capacity */
}

int main(void) {
    RUN(test_basic);
    RUN(test_billion_laughs);
    RUN(test_depth);
    RUN(test_malformed);
    RUN(test_encodings);
    RUN(test_pull);
    RUN(test_base64);
    RUN(test_mixed_content);
    return test_summary();
}
