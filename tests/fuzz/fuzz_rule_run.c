/* libFuzzer target for rules end to end: the input is a rule's SQL, optionally followed by a NUL
 * byte and its "options" JSON. The rule is created (parse, bind, plan) on an in-process engine
 * (fuzz_rule_engine.h) over three memory streams - one with a schema, one schemaless, one table -
 * with a memory sink, fed a fixed set of messages (well-formed, wrong types, missing fields,
 * nested, not an object) while the fake clock moves past window boundaries, then deleted.
 * Anything may be refused with a message; nothing may crash, hang or leak, and the rule is
 * gone afterwards whatever happened. */
#include "connectors/memory.h"
#include "engine/codec_json.h"
#include "tests/fuzz/fuzz_rule_engine.h"

#include <stdint.h>

static const char *const streams[] = {
    "CREATE STREAM fzs (a BIGINT, b STRING, c FLOAT, d BOOLEAN, ts BIGINT) "
    "WITH (TYPE=\"memory\", DATASOURCE=\"fzin/s\", TIMESTAMP=\"ts\")",
    "CREATE STREAM fzl () WITH (TYPE=\"memory\", DATASOURCE=\"fzin/l\")",
    NULL,
};
static const char table_sql[] = "CREATE TABLE fzt (a BIGINT, v STRING) WITH (TYPE=\"memory\", DATASOURCE=\"fzin/t\")";

static const char *const messages[] = {
    "{\"a\":1,\"b\":\"x\",\"c\":1.5,\"d\":true,\"ts\":1000100}",
    "{\"a\":\"not a number\",\"b\":7,\"c\":null,\"ts\":1000200}",
    "{\"a\":2,\"nested\":{\"k\":[1,2,{\"z\":3}]},\"ts\":1000300}",
    "[1,2,3]",
    "{\"a\":-9223372036854775808,\"b\":\"\",\"c\":1e308,\"ts\":1002500}",
    "{\"a\":3,\"b\":\"y\",\"c\":-0.5,\"d\":false,\"ts\":1012000}",
};

static void publish(const char *topic, const char *json)
{
    ek_value v;
    ek_err err = {0};
    if (ek_json_decode(json, strlen(json), 0, &v, &err) != 0) abort();
    ek_memory_publish(topic, &v);
    ek_value_unref(&v);
}

static void setup(ek_rules *r)
{
    static bool done;
    if (done) return;
    done = true;
    ek_err err = {0};
    for (int i = 0; streams[i]; i++)
        if (ek_rules_stream_create(r, false, streams[i], NULL, &err) != 0) abort();
    if (ek_rules_stream_create(r, true, table_sql, NULL, &err) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ek_rules *r = fz_engine_get();
    setup(r);
    const char *nul = memchr(data, '\0', size);
    size_t slen = nul ? (size_t)(nul - (const char *)data) : size;
    ek_value def = ek_object_new(4);
    ek_object_set(&def, "id", ek_string("fz"));
    ek_object_set(&def, "sql", ek_string_n((const char *)data, slen));
    ek_value act = ek_array_new(1), mem = ek_object_new(1), props = ek_object_new(1);
    ek_object_set(&props, "topic", ek_string("fzout/fz"));
    ek_object_set(&mem, "memory", props);
    ek_array_push(&act, mem);
    ek_object_set(&def, "actions", act);
    if (nul) {
        ek_value o;
        ek_err e = {0};
        if (ek_json_decode(nul + 1, size - slen - 1, 0, &o, &e) == 0) ek_object_set(&def, "options", o);
    }
    char *text = ek_json_encode_str(&def, 0);
    ek_value_unref(&def);
    ek_err err = {0};
    fz_eng.now = 1000000;
    if (ek_rules_rule_create(r, text, strlen(text), NULL, &err) == 0) {
        for (size_t i = 0; i < sizeof messages / sizeof messages[0]; i++) {
            publish(i % 2 ? "fzin/l" : "fzin/s", messages[i]);
            if (i == 1) publish("fzin/t", "{\"a\":1,\"v\":\"one\"}");
            __atomic_add_fetch(&fz_eng.now, 2500, __ATOMIC_SEQ_CST);
            ek_rules_quiesce(r);
            ek_rules_fire_timers(r);
        }
        ek_rules_quiesce(r);
        ek_value st;
        if (ek_rules_rule_status(r, "fz", &st, &err) == 0) ek_value_unref(&st);
        if (ek_rules_rule_delete(r, "fz", &err) != 0) abort(); /* a created rule can always be deleted */
    } else if (!err.msg[0]) {
        abort(); /* a refusal says why */
    }
    ek_free(text);
    return 0;
}
