#pragma once

#include <cstddef>
#include <string_view>

#include "scheduler/cron/cron_expression.hpp"
#include "scheduler/cron/cron_fields.hpp"

namespace sluice::scheduler {

// The seven positions an expression field can take.
enum class cron_field_kind { second, minute, hour, day_of_month, month, day_of_week, year };

// The name used in error messages and docs: "day-of-month".
const char* cron_field_name(cron_field_kind kind);

// Parses one field (a comma-separated list) into `fields`. `offset` is the field's byte offset in
// the whole expression, so that errors point into the original text.
bool parse_cron_field(std::string_view field, std::size_t offset, cron_field_kind kind,
                      cron_fields& fields, cron_parse_error& error);

}  // namespace sluice::scheduler
