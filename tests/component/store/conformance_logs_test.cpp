// The run_store conformance suite: a task's log read a window at a time and searched in the
// store (run_store::read_task_log_window, run_store::search_task_log).

#include "scheduler/task_log_reader.hpp"
#include "tests/component/store/conformance.hpp"

namespace sluice::test {
namespace {

// Every store open_migrated opens has the capability (the API answers 501 without it).
scheduler::task_log_reader& logs_of(scheduler::run_store& store) {
    auto* logs = dynamic_cast<scheduler::task_log_reader*>(&store);
    REQUIRE(logs != nullptr);
    return *logs;
}

STORE_TEST("a task log is read by line number, a window at a time, with its total", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto run = ok(store->create_run(make_run("etl", "k")));
    auto tasks = ok(store->list_task_instances(run.id));
    std::vector<scheduler::log_line> mine;
    for (int i = 1; i <= 250; ++i) {
        mine.push_back(
            {at(1, i % 60), i % 7 == 0 ? "stderr" : "stdout", "line " + std::to_string(i)});
    }
    // Another task's lines interleave in seq order; they are not counted.
    ok(store->append_task_log(tasks[0].id, 1, std::span(mine).first(100)));
    std::vector<scheduler::log_line> other{{at(1), "stdout", "not mine"}};
    ok(store->append_task_log(tasks[1].id, 1, other));
    ok(store->append_task_log(tasks[0].id, 2, std::span(mine).subspan(100)));

    auto head = ok(logs_of(*store).read_task_log_window(tasks[0].id, 1, 10));
    CHECK(head.total == 250);
    CHECK(head.first == 1);
    REQUIRE(head.lines.size() == 10);
    CHECK(head.lines[0].line.text == "line 1");
    CHECK(head.lines[6].line.stream == "stderr");

    auto across = ok(logs_of(*store).read_task_log_window(tasks[0].id, 95, 10));
    REQUIRE(across.lines.size() == 10);
    for (std::size_t i = 0; i < across.lines.size(); ++i) {
        CHECK(across.lines[i].line.text == "line " + std::to_string(95 + i));
    }
    CHECK(across.lines[5].try_number == 1);
    CHECK(across.lines[6].try_number == 2);

    auto tail = ok(logs_of(*store).read_task_log_window(tasks[0].id, 241, 100));
    CHECK(tail.total == 250);
    REQUIRE(tail.lines.size() == 10);
    CHECK(tail.lines.back().line.text == "line 250");

    auto past = ok(logs_of(*store).read_task_log_window(tasks[0].id, 251, 10));
    CHECK(past.total == 250);
    CHECK(past.lines.empty());
    auto none = ok(logs_of(*store).read_task_log_window(core::task_instance_id{999999}, 1, 10));
    CHECK(none.total == 0);
    CHECK(none.lines.empty());
}

STORE_TEST("a task log search finds a plain substring in any case, numbered, bounded", "[store]") {
    TestType db;
    auto store = open_migrated(db.url());
    auto run = ok(store->create_run(make_run("etl", "k")));
    auto tasks = ok(store->list_task_instances(run.id));
    std::vector<scheduler::log_line> lines{
        {at(1, 1), "stdout", "starting"},        {at(1, 2), "stderr", "ERROR: disk full"},
        {at(1, 3), "stdout", "100% done_ok"},    {at(1, 4), "stdout", "an error again"},
        {at(1, 5), "stdout", "1000 done"},       {at(1, 6), "stdout", "path C:\\tmp\\x"},
        {at(1, 7), "stdout", "(.*) not a regex"}};
    ok(store->append_task_log(tasks[0].id, 1, lines));
    std::vector<scheduler::log_line> other{{at(1), "stdout", "error elsewhere"}};
    ok(store->append_task_log(tasks[1].id, 1, other));

    auto errors = ok(logs_of(*store).search_task_log(tasks[0].id, "Error", 10));
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].number == 2);
    CHECK(errors[0].line.line.text == "ERROR: disk full");
    CHECK(errors[0].line.line.stream == "stderr");
    CHECK(errors[1].number == 4);

    // LIKE's wildcards and its escape character are literal text.
    auto percent = ok(logs_of(*store).search_task_log(tasks[0].id, "0% done_", 10));
    REQUIRE(percent.size() == 1);
    CHECK(percent[0].number == 3);
    auto backslash = ok(logs_of(*store).search_task_log(tasks[0].id, "c:\\tmp\\", 10));
    REQUIRE(backslash.size() == 1);
    CHECK(backslash[0].number == 6);
    auto regex = ok(logs_of(*store).search_task_log(tasks[0].id, "(.*)", 10));
    REQUIRE(regex.size() == 1);
    CHECK(regex[0].number == 7);

    auto first = ok(logs_of(*store).search_task_log(tasks[0].id, "o", 2));
    REQUIRE(first.size() == 2);
    CHECK(first[0].number == 2);
    CHECK(first[1].number == 3);
    CHECK(ok(logs_of(*store).search_task_log(tasks[0].id, "nowhere", 10)).empty());
}

}  // namespace
}  // namespace sluice::test
