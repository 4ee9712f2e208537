#include "connectors/write_modes.hpp"

#include <algorithm>
#include <cctype>

namespace sluice::connectors {

namespace {

std::string lowered(std::string_view v) {
    std::string out(v);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view mode_name(write_mode m) {
    switch (m) {
        case write_mode::append:
            return "append";
        case write_mode::upsert:
            return "upsert";
        case write_mode::scd2:
            return "scd2";
    }
    return "?";
}

bool contains(const std::vector<std::size_t>& v, std::size_t i) {
    return std::find(v.begin(), v.end(), i) != v.end();
}

}  // namespace

std::optional<change_kind> parse_operation(std::string_view value) {
    const std::string v = lowered(value);
    if (v == "insert" || v == "update" || v == "i" || v == "u" || v == "c") {
        return change_kind::upsert;
    }
    if (v == "delete" || v == "d") {
        return change_kind::remove;
    }
    return std::nullopt;
}

core::result<write_plan> plan_write(const write_request& request, const std::string& connection) {
    const auto fail = [&](const std::string& what) {
        return core::error::permanent("connection '" + connection + "': mode " +
                                      std::string(mode_name(request.mode)) + " into " +
                                      request.table + ": " + what);
    };
    if (request.columns == nullptr) {
        return core::error::permanent("write without columns (programmer error)");
    }
    const schema& batch = *request.columns;
    const auto find = [&](const std::string& name,
                          const std::string& role) -> core::result<std::size_t> {
        auto i = batch.index_of(name);
        if (!i) {
            return fail(role + " column '" + name + "' is not a column of the batch");
        }
        return *i;
    };
    write_plan plan;
    if (request.key.empty()) {
        return fail("needs key columns");
    }
    for (const auto& k : request.key) {
        auto i = find(k, "key");
        if (!i) {
            return i.error();
        }
        plan.key.push_back(*i);
    }
    if (request.sequence) {
        auto i = find(*request.sequence, "sequence");
        if (!i) {
            return i.error();
        }
        plan.sequence = *i;
    }
    if (request.operation) {
        auto i = find(*request.operation, "operation");
        if (!i) {
            return i.error();
        }
        plan.operation = *i;
    }
    if (request.mode != write_mode::scd2) {
        return plan;
    }
    if (!plan.sequence) {
        return fail("needs a sequence column (the order of change events)");
    }
    const std::string vf = request.valid_from.value_or(*request.sequence);
    auto vfi = find(vf, "valid_from");
    if (!vfi) {
        return vfi.error();
    }
    plan.valid_from = *vfi;
    plan.extra_valid_from = vf != valid_from_column;
    for (std::string_view reserved : {valid_from_column, valid_to_column, is_current_column}) {
        if (reserved == valid_from_column && !plan.extra_valid_from) {
            continue;
        }
        if (batch.index_of(reserved)) {
            return fail("the batch has a column named '" + std::string(reserved) +
                        "', which the history table adds itself; rename it in `columns`");
        }
    }
    if (request.tracked.empty()) {
        for (std::size_t i = 0; i < batch.columns.size(); ++i) {
            if (!contains(plan.key, i) && i != *plan.sequence && i != plan.operation &&
                i != *plan.valid_from) {
                plan.tracked.push_back(i);
            }
        }
    } else {
        for (const auto& t : request.tracked) {
            auto i = find(t, "tracked");
            if (!i) {
                return i.error();
            }
            plan.tracked.push_back(*i);
        }
    }
    return plan;
}

core::result<void> check_events(const write_plan& plan, const write_request& request,
                                const row_batch& rows, const std::string& connection,
                                std::vector<bool>& deleted) {
    const schema& batch = *request.columns;
    const auto fail = [&](std::size_t r, const std::string& what) {
        return core::error::permanent("connection '" + connection + "': writing into " +
                                      request.table + ": row " + std::to_string(r + 1) +
                                      " of the batch: " + what);
    };
    deleted.clear();
    for (std::size_t r = 0; r < rows.row_count(); ++r) {
        for (const auto i : {plan.sequence, plan.valid_from}) {
            if (i && rows.is_null(r, *i)) {
                return fail(r, "column '" + batch.columns[*i].name +
                                   "' is NULL; change events need it to order them");
            }
        }
        if (plan.operation) {
            if (rows.is_null(r, *plan.operation)) {
                return fail(r, "operation column '" + batch.columns[*plan.operation].name +
                                   "' is NULL; expected insert, update or delete");
            }
            const auto kind = parse_operation(rows.at(r, *plan.operation));
            if (!kind) {
                return fail(r, "operation '" + std::string(rows.at(r, *plan.operation)) +
                                   "' in column '" + batch.columns[*plan.operation].name +
                                   "' is not insert, update or delete (nor I/U/D or c/u/d)");
            }
            deleted.push_back(*kind == change_kind::remove);
        }
    }
    return {};
}

core::result<schema> sink_table_schema(const schema& batch, const write_request& request) {
    write_request r = request;
    r.columns = &batch;
    if (r.mode == write_mode::append || (r.mode == write_mode::upsert && !r.operation)) {
        return batch;
    }
    auto plan = plan_write(r, "(create table)");
    if (!plan) {
        return plan.error();
    }
    schema out = batch;
    if (r.mode == write_mode::upsert) {
        if (batch.index_of(deleted_column)) {
            return core::error::permanent("upsert into " + r.table + ": the batch has a column '" +
                                          std::string(deleted_column) +
                                          "', which marks tombstones; rename it in `columns`");
        }
        column d;
        d.name = deleted_column;
        d.type = column_type::boolean;
        d.nullable = false;
        out.columns.push_back(d);
        return out;
    }
    for (const auto k : plan->key) {
        out.columns[k].nullable = false;
    }
    out.columns[*plan->sequence].nullable = false;
    column from = batch.columns[*plan->valid_from];
    from.native_type.clear();
    if (plan->extra_valid_from) {
        from.name = valid_from_column;
        from.nullable = false;
        out.columns.push_back(from);
    }
    column to = from;
    to.name = valid_to_column;
    to.nullable = true;
    out.columns.push_back(to);
    column current;
    current.name = is_current_column;
    current.type = column_type::boolean;
    current.nullable = false;
    out.columns.push_back(current);
    return out;
}

create_options sink_create_options(const write_request& request) {
    create_options o;
    o.key = request.key;
    if (request.mode == write_mode::scd2 && request.sequence) {
        o.key.push_back(*request.sequence);
    }
    if (request.mode == write_mode::upsert) {
        o.version_column = request.sequence;
    }
    return o;
}

std::string scd2_events_name(const std::string& history) {
    return history + "__sluice_events";
}

std::string scd2_versions_select(const write_request& request, const write_plan& plan,
                                 const scd2_dialect& dialect, const std::string& events,
                                 const std::string& keys_table) {
    const schema& batch = *request.columns;
    const auto id = [&](std::size_t i) { return dialect.identifier(batch.columns[i].name); };
    std::string keys;
    std::string key_match;
    std::string first_match;
    for (const auto k : plan.key) {
        keys += (keys.empty() ? "" : ", ") + id(k);
        key_match += std::string(key_match.empty() ? "" : " AND ") + "sluice_k." + id(k) +
                     " = sluice_e." + id(k);
        first_match += " AND sluice_f." + id(k) + " = sluice_l." + id(k);
    }
    const std::string seq = id(*plan.sequence);
    const std::string order = " ORDER BY " + seq;
    const std::string window = " OVER (PARTITION BY " + keys + order + ")";
    const std::string del = plan.operation ? "CASE WHEN LOWER(" + id(*plan.operation) +
                                                 ") IN ('d', 'delete') THEN 1 ELSE 0 END"
                                           : std::string("0");
    std::string all;
    for (std::size_t i = 0; i < batch.columns.size(); ++i) {
        all += (all.empty() ? "" : ", ") + id(i);
    }
    std::string ev = "SELECT " + all + ", " + dialect.identifier(valid_from_column) +
                     " AS sluice_vf, " + del + " AS sluice_del, LAG(" + seq + ")" + window +
                     " AS sluice_prev_seq, LAG(" + del + ")" + window + " AS sluice_prev_del";
    std::string changed;
    for (std::size_t t = 0; t < plan.tracked.size(); ++t) {
        const std::string prev = "sluice_prev_" + std::to_string(t);
        ev += ", LAG(" + id(plan.tracked[t]) + ")" + window + " AS " + prev;
        changed += " OR " +
                   dialect.distinct(id(plan.tracked[t]), prev, batch.columns[plan.tracked[t]].type);
    }
    ev += " FROM " + events + " sluice_e WHERE EXISTS (SELECT 1 FROM " + keys_table +
          " sluice_k WHERE " + key_match + ")";
    const std::string st =
        "SELECT sluice_ev.*, CASE WHEN sluice_del = 1 THEN 0 WHEN sluice_prev_seq IS NULL OR "
        "sluice_prev_del = 1" +
        changed + " THEN 1 ELSE 0 END AS sluice_start FROM sluice_ev";
    // A version is a group: its opening event and the untracked changes after it.
    const std::string gp =
        "SELECT sluice_st.*, SUM(CASE WHEN sluice_start = 1 OR sluice_del = 1 "
        "THEN 1 ELSE 0 END) OVER (PARTITION BY " +
        keys + order +
        " ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS sluice_grp "
        "FROM sluice_st";
    const std::string ls = "SELECT sluice_gp.*, ROW_NUMBER() OVER (PARTITION BY " + keys +
                           ", sluice_grp" + order + " DESC) AS sluice_rn FROM sluice_gp";
    // The opening rows (and deletes), each with the valid_from of the next one.
    std::string fs = "SELECT " + keys + ", " + seq;
    const bool own_vf_column =
        *plan.valid_from != *plan.sequence &&
        std::find(plan.key.begin(), plan.key.end(), *plan.valid_from) == plan.key.end();
    if (own_vf_column) {
        fs += ", " + id(*plan.valid_from);
    }
    fs += ", sluice_vf, sluice_start, sluice_grp, LEAD(sluice_vf)" + window +
          " AS sluice_next_vf FROM sluice_gp WHERE sluice_start = 1 OR sluice_del = 1";
    std::string out;
    for (std::size_t i = 0; i < batch.columns.size(); ++i) {
        const bool from_first = i == *plan.sequence || i == *plan.valid_from;
        out += (out.empty() ? "" : ", ") + std::string(from_first ? "sluice_f." : "sluice_l.") +
               id(i) + " AS " + id(i);
    }
    if (plan.extra_valid_from) {
        out += ", sluice_f.sluice_vf AS " + dialect.identifier(valid_from_column);
    }
    out +=
        ", sluice_f.sluice_next_vf AS sluice_valid_to, CASE WHEN sluice_f.sluice_next_vf IS "
        "NULL THEN 1 ELSE 0 END AS sluice_is_current";
    return "WITH sluice_ev AS (" + ev + "), sluice_st AS (" + st + "), sluice_gp AS (" + gp +
           "), sluice_ls AS (" + ls + "), sluice_fs AS (" + fs + ") SELECT " + out +
           " FROM sluice_ls sluice_l JOIN sluice_fs sluice_f ON sluice_f.sluice_grp = "
           "sluice_l.sluice_grp" +
           first_match + " WHERE sluice_l.sluice_rn = 1 AND sluice_f.sluice_start = 1";
}

std::string replace_staging_name(const std::string& table) {
    return table + "__sluice_staging";
}
std::string replace_old_name(const std::string& table) {
    return table + "__sluice_old";
}

std::string rename_swap_sql(const std::function<std::string(std::string_view)>& identifier,
                            const std::string& staging, const std::string& table, bool existing) {
    std::string sql;
    if (existing) {
        sql = "ALTER TABLE " + identifier(table) + " RENAME TO " +
              identifier(unqualified(replace_old_name(table))) + "; ";
    }
    sql += "ALTER TABLE " + identifier(staging) + " RENAME TO " + identifier(unqualified(table)) +
           "; ";
    if (existing) {
        sql += "DROP TABLE " + identifier(replace_old_name(table)) + "; ";
    }
    return sql;
}

std::string key_match_sql(const std::vector<std::string>& key,
                          const std::function<std::string(std::string_view)>& identifier,
                          const std::string& left, const std::string& right) {
    std::string match;
    for (const auto& k : key) {
        match += std::string(match.empty() ? "" : " AND ") + left + "." + identifier(k) + " = " +
                 right + "." + identifier(k);
    }
    return match;
}

std::string key_list_predicate(
    const std::vector<std::string>& key,
    const std::function<std::string(std::string_view)>& identifier,
    const std::function<std::string(std::size_t column, std::string_view value)>& literal,
    const row_batch& keys, std::size_t from, std::size_t to) {
    std::string out;
    if (key.size() == 1) {
        out = identifier(key.front()) + " IN (";
        for (std::size_t r = from; r < to; ++r) {
            out += (r == from ? "" : ", ") + literal(0, keys.at(r, 0));
        }
        return out + ")";
    }
    for (std::size_t r = from; r < to; ++r) {
        out += r == from ? "(" : " OR (";
        for (std::size_t c = 0; c < key.size(); ++c) {
            out += (c == 0 ? "" : " AND ") + identifier(key[c]) + " = " + literal(c, keys.at(r, c));
        }
        out += ")";
    }
    return out;
}

std::string unqualified(const std::string& table) {
    const auto dot = table.rfind('.');
    return dot == std::string::npos ? table : table.substr(dot + 1);
}

}  // namespace sluice::connectors
