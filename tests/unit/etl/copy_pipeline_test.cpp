#include "etl/copy_pipeline.hpp"

#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

using namespace sluice;
using namespace std::chrono_literals;

TEST_CASE("copy pipeline: extract overlaps load with at most two batches alive", "[etl][copy]") {
    std::atomic<int> alive{0};
    std::atomic<int> most{0};
    std::atomic<int> produced{0};
    std::atomic<bool> overlapped{false};
    std::atomic<bool> loading{false};
    etl::copy_pipeline pipeline([&]() -> core::result<std::optional<etl::extracted_batch>> {
        if (produced == 6) {
            return std::optional<etl::extracted_batch>();
        }
        const int now = ++alive;
        most = std::max(most.load(), now);
        if (loading) {
            overlapped = true;  // batch N+1 is read while batch N loads
        }
        std::this_thread::sleep_for(5ms);
        etl::extracted_batch b;
        b.rows = static_cast<std::uint64_t>(++produced);
        return std::optional<etl::extracted_batch>(std::move(b));
    });
    std::vector<std::uint64_t> order;
    for (;;) {
        auto b = pipeline.take();
        REQUIRE(b.has_value());
        if (!*b) {
            break;
        }
        loading = true;
        std::this_thread::sleep_for(20ms);  // the load is slower than the extract
        loading = false;
        order.push_back((*b)->rows);
        --alive;
    }
    CHECK(order == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6});
    CHECK(most <= 2);
    CHECK(overlapped);
}

TEST_CASE("copy pipeline: a producer error arrives after the batches before it", "[etl][copy]") {
    int calls = 0;
    etl::copy_pipeline pipeline([&]() -> core::result<std::optional<etl::extracted_batch>> {
        if (++calls == 2) {
            return core::error::transient("connection lost");
        }
        return std::optional<etl::extracted_batch>(etl::extracted_batch{});
    });
    auto first = pipeline.take();
    REQUIRE(first.has_value());
    CHECK(first->has_value());
    auto second = pipeline.take();
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error().cls == core::error_class::transient);
    CHECK(second.error().message == "connection lost");
}

TEST_CASE("copy pipeline: closing abandons a producer that would go on", "[etl][copy]") {
    std::atomic<int> calls{0};
    {
        etl::copy_pipeline pipeline([&]() -> core::result<std::optional<etl::extracted_batch>> {
            ++calls;
            return std::optional<etl::extracted_batch>(etl::extracted_batch{});
        });
        REQUIRE(pipeline.take().has_value());
        pipeline.close();
    }
    // One taken, at most one more read into the slot, and one in flight when closed.
    CHECK(calls <= 3);
}
