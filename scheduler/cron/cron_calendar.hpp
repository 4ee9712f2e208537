#pragma once

#include <cstdint>

#include "scheduler/cron/cron_fields.hpp"

namespace sluice::scheduler {

// Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard Hinnant's algorithms,
// exact for every year the engine can reach).
std::int64_t days_from_civil(int year, unsigned month, unsigned day);
void civil_from_days(std::int64_t days, int& year, unsigned& month, unsigned& day);

unsigned days_in_month(int year, unsigned month);

// 0 = Sunday.
unsigned weekday_from_days(std::int64_t days);

// Bit d (1-31) set for each day of the month on which the day-of-month and day-of-week fields
// (with L, LW, W, #, nL and the OR/AND rule) let the schedule fire.
std::uint64_t matching_days(const cron_fields& f, int year, unsigned month);

}  // namespace sluice::scheduler
