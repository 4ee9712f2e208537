#include "core/logging.hpp"

#include <mutex>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace sluice::core {
namespace {

std::mutex setup_mutex;
log_options current_options;
// Every logger shares one sink, so lines of different components never interleave mid-line.
spdlog::sink_ptr current_sink;

spdlog::sink_ptr make_sink(log_stream stream) {
    if (stream == log_stream::stdout_stream) {
        return std::make_shared<spdlog::sinks::stdout_sink_mt>();
    }
    return std::make_shared<spdlog::sinks::stderr_sink_mt>();
}

// Writes the message payload escaped for a JSON string (spdlog's %v writes it raw).
class json_payload_flag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        static constexpr char hex[] = "0123456789abcdef";
        for (const char c : std::string_view(msg.payload.data(), msg.payload.size())) {
            switch (c) {
                case '"':
                    dest.append(std::string_view("\\\""));
                    break;
                case '\\':
                    dest.append(std::string_view("\\\\"));
                    break;
                case '\n':
                    dest.append(std::string_view("\\n"));
                    break;
                case '\r':
                    dest.append(std::string_view("\\r"));
                    break;
                case '\t':
                    dest.append(std::string_view("\\t"));
                    break;
                default:
                    if (static_cast<unsigned char>(c) < 0x20) {
                        const char esc[] = {'\\', 'u', '0', '0', hex[(c >> 4) & 0xf], hex[c & 0xf]};
                        dest.append(esc, esc + sizeof esc);
                    } else {
                        dest.push_back(c);
                    }
            }
        }
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<json_payload_flag>();
    }
};

// JSON lines: one object per message.
constexpr const char* json_pattern =
    R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","component":"%n","msg":"%*"})";
constexpr const char* text_pattern = "%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v";

void apply_pattern(spdlog::logger& logger) {
    if (current_options.format == log_format::json) {
        auto formatter =
            std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
        formatter->add_flag<json_payload_flag>('*').set_pattern(json_pattern);
        logger.set_formatter(std::move(formatter));
    } else {
        logger.set_pattern(text_pattern, spdlog::pattern_time_type::local);
    }
}

}  // namespace

result<log_format> parse_log_format(std::string_view text) {
    if (text == "text") {
        return log_format::text;
    }
    if (text == "json") {
        return log_format::json;
    }
    return error::permanent("unknown log format '" + std::string(text) +
                            "' (expected text or json)");
}

result<void> setup_logging(const log_options& options) {
    const auto level = spdlog::level::from_str(options.level);
    if (level == spdlog::level::off && options.level != "off") {
        return error::permanent("unknown log level '" + options.level +
                                "' (expected trace, debug, info, warn, error, critical or off)");
    }
    std::lock_guard lock(setup_mutex);
    if (!current_sink || options.stream != current_options.stream) {
        current_sink = make_sink(options.stream);
    }
    current_options = options;
    spdlog::set_level(level);
    spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) {
        l->sinks().assign(1, current_sink);
        apply_pattern(*l);
    });
    return {};
}

std::shared_ptr<spdlog::logger> component_logger(const std::string& component) {
    std::lock_guard lock(setup_mutex);
    if (auto existing = spdlog::get(component)) {
        return existing;
    }
    if (!current_sink) {
        current_sink = make_sink(current_options.stream);
    }
    auto logger = std::make_shared<spdlog::logger>(component, current_sink);
    apply_pattern(*logger);
    logger->set_level(spdlog::get_level());
    spdlog::register_logger(logger);
    return logger;
}

}  // namespace sluice::core
