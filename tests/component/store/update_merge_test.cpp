// Merging executions of a single-row UPDATE into one UPDATE over arrays (PostgreSQL's transition
// batches): the rewrite itself, and values that need quoting surviving it on both stores.

#include "store/postgres/update_merge.hpp"

#include <catch2/catch.hpp>

#include "tests/component/store/conformance.hpp"

namespace sluice::test {
namespace {

using scheduler::task_state;
using store::postgres::array_literal;
using store::postgres::shape_of_update;

TEST_CASE("a single-row UPDATE by id becomes an UPDATE over arrays of its parameters", "[store]") {
    auto shape = shape_of_update(
        "UPDATE task_instances SET state = $1, try_number = COALESCE($2, try_number) "
        "WHERE id = $3 AND state = $4 AND lease_epoch + 1 = $10 AND owner = $5 AND a = $6 AND "
        "b = $7 AND c = $8 AND d = $9");
    REQUIRE(shape);
    CHECK(shape->table == "task_instances");
    CHECK(shape->id_param == 2);
    CHECK(shape->params == 10);
    CHECK(shape->merged_sql ==
          "UPDATE task_instances SET state = sluice_v.p1, try_number = COALESCE(sluice_v.p2, "
          "try_number) FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) AS sluice_v(p1, p2, "
          "p3, p4, p5, p6, p7, p8, p9, p10) WHERE id = sluice_v.p3 AND state = sluice_v.p4 AND "
          "lease_epoch + 1 = sluice_v.p10 AND owner = sluice_v.p5 AND a = sluice_v.p6 AND b = "
          "sluice_v.p7 AND c = sluice_v.p8 AND d = sluice_v.p9 RETURNING id");
}

TEST_CASE("statements that are not a single-row UPDATE by id stay unmerged", "[store]") {
    for (const char* sql : {
             "INSERT INTO events (kind) VALUES ($1)",
             "UPDATE runs SET state = $1 WHERE job = $2",
             "UPDATE runs SET state = $1 WHERE id = $2 RETURNING id",
             "UPDATE runs SET state = $1 FROM jobs WHERE id = $2",
             "UPDATE runs SET state = $1 WHERE id = $2 AND x IN (SELECT y FROM z WHERE q = 1)",
             "UPDATE runs SET state = $1 WHERE id = $3",  // $2 unused
             "UPDATE runs SET state = 'x' WHERE id = 5",
         }) {
        INFO(sql);
        CHECK_FALSE(shape_of_update(sql));
    }
}

TEST_CASE("array literals quote every element and keep NULLs", "[store]") {
    const store::sql_value a = std::string(R"(he said "hi", {x} \ 'q')");
    const store::sql_value b = std::int64_t{-42};
    const store::sql_value c = nullptr;
    const store::sql_value d = std::string("NULL");
    const store::sql_value e = std::string();
    const store::sql_value* values[] = {&a, &b, &c, &d, &e};
    CHECK(array_literal(values) == R"({"he said \"hi\", {x} \\ 'q'",-42,NULL,"NULL",""})");
}

// Many transitions of one shape in a batch travel as one array UPDATE on PostgreSQL: values that
// need quoting in an array come back exactly, and each row keeps its own fence.
STORE_TEST("a batch of one statement shape keeps odd values and per-row fences", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    const std::vector<std::string> messages{
        R"(he said "hi", {x} \ back\\slash 'q')", "NULL", "", "a,b}", "line\nbreak", "{}"};
    std::vector<core::task_instance_id> ids;
    for (std::size_t i = 0; i < messages.size() + 1; ++i) {
        auto created = ok(store->create_run(make_run("etl", "odd-" + std::to_string(i), {"t"})));
        ids.push_back(ok(store->list_task_instances(created.id))[0].id);
    }
    std::vector<scheduler::transition> batch;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        // The last one is fenced out (wrong epoch); the others carry an odd message.
        auto t = task_move(ids[i], task_state::pending, i + 1 == ids.size() ? 7 : 0,
                           task_state::queued, at(1));
        if (i < messages.size()) {
            t.error_message = messages[i];
        }
        batch.push_back(t);
    }
    auto outcomes = apply(*store, batch);
    REQUIRE(outcomes.size() == ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        INFO("task " << i);
        auto t = ok(store->get_task_instance(ids[i]));
        if (i < messages.size()) {
            CHECK(outcomes[i] == applied);
            CHECK(t->state == task_state::queued);
            CHECK(t->error_message == messages[i]);
        } else {
            CHECK(outcomes[i] == conflict);
            CHECK(t->state == task_state::pending);
        }
    }
}

}  // namespace
}  // namespace sluice::test
