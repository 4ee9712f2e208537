// Differential test: the Sluice cron engine (through cron_oracle_driver) against croner, an
// independent implementation (pinned in package-lock.json).
//
//   node croner_diff.mjs PATH/TO/cron_oracle_driver [--seed N] [--cases N]
//
// Generates random expressions from the features both engines implement with the same meaning,
// and `from` instants both at random and just before DST transitions in many zones, asks croner
// for the next fire times and compares them with the driver's answers. Exits 1 on any
// disagreement, printing the first ones.

import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { Cron } from "croner";

const args = process.argv.slice(2);
const driver = args[0];
if (!driver) {
    console.error("usage: node croner_diff.mjs DRIVER [--seed N] [--cases N]");
    process.exit(2);
}
const option = (name, fallback) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
};
const seed = option("--seed", 20260308);
const caseCount = option("--cases", 6000);
const runsPerCase = 6;

// mulberry32: small, seeded, reproducible.
let state = seed >>> 0;
function random() {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
const pick = (list) => list[int(0, list.length - 1)];
const chance = (p) => random() < p;

// Zones with DST in both hemispheres, 30- and 60-minute shifts, transitions at midnight
// (Santiago, Havana, Sao Paulo's historic DST), no DST at all, and fractional offsets.
const zones = [
    "UTC", "Etc/UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe",
    "America/Santiago", "Pacific/Chatham", "Asia/Kolkata", "Europe/London", "Australia/Sydney",
    "America/Sao_Paulo", "America/Havana", "America/St_Johns", "Asia/Tehran", "Europe/Dublin",
    "Pacific/Auckland", "America/Los_Angeles", "Antarctica/Troll",
];

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const maybeLower = (s) => (chance(0.3) ? s.toLowerCase() : s);

// One item of a plain numeric field. `a/n` is written only with the sloppyRanges option on the
// croner side, where it means a through the maximum in steps of n, as in Sluice. A bare `/n` and
// steps larger than the field's range are rejected by Sluice and not generated.
function numericItem(min, max, name) {
    const value = () => (name && chance(0.3) ? maybeLower(name(int(min, max))) : String(int(min, max)));
    const span = max - min + 1;
    switch (int(0, 6)) {
        case 0:
        case 1:
            return value();
        case 2: {
            const a = int(min, max), b = int(a, max);
            return name && chance(0.3) ? `${maybeLower(name(a))}-${maybeLower(name(b))}` : `${a}-${b}`;
        }
        case 3:
            return `*/${int(1, Math.min(span, 20))}`;
        case 4: {
            const a = int(min, max), b = int(a, max);
            return `${a}-${b}/${int(1, Math.min(span, 15))}`;
        }
        case 5:
            return `${int(min, max)}/${int(1, Math.min(span, 15))}`;
        default:
            return String(int(min, max));
    }
}

function numericField(min, max, opts = {}) {
    const r = random();
    if (r < (opts.star ?? 0.35)) return "*";
    if (r < (opts.star ?? 0.35) + (opts.single ?? 0.3)) return String(int(min, max));
    const n = chance(0.7) ? 1 : int(2, 3);
    return Array.from({ length: n }, () => numericItem(min, max, opts.name)).join(",");
}

function domField() {
    const r = random();
    if (r < 0.35) return chance(0.2) ? "?" : "*";
    if (r < 0.45) return "L";
    if (r < 0.5) return "LW";
    if (r < 0.6) return `${int(1, 31)}W`;
    const n = chance(0.7) ? 1 : int(2, 3);
    const items = [];
    for (let i = 0; i < n; i++) {
        const k = random();
        if (k < 0.15 && !items.includes("L")) items.push("L");
        else if (k < 0.3) items.push(`${int(1, 31)}W`);
        else items.push(numericItem(1, 31));
    }
    return items.join(",");
}

function dowItem() {
    const day = () => (chance(0.4) ? maybeLower(DAYS[int(0, 6)]) : String(int(0, 7)));
    switch (int(0, 7)) {
        case 0:
        case 1:
            return day();
        case 2: {
            // A range may end in 7 or SUN (Sunday as the end of the week).
            const a = int(0, 6), b = int(a, 7);
            return chance(0.4) ? `${DAYS[a]}-${b === 7 ? "SUN" : DAYS[b]}` : `${a}-${b}`;
        }
        case 3:
            return `*/${int(1, 7)}`;
        case 4:
            return `${day()}#${int(1, 5)}`;
        case 5:
            return chance(0.5) ? `${int(0, 7)}L` : `${maybeLower(DAYS[int(0, 6)])}L`;
        case 6:
            return `${day()}#L`;
        default: {
            const a = int(0, 6), b = int(a, 7);
            return `${a}-${b}/${int(1, 3)}`;
        }
    }
}

function dowField() {
    const r = random();
    if (r < 0.4) return chance(0.2) ? "?" : "*";
    const n = chance(0.7) ? 1 : int(2, 3);
    const body = Array.from({ length: n }, dowItem).join(",");
    return chance(0.2) ? `+${body}` : body;
}

const monthName = (m) => MONTHS[m - 1];

function expression() {
    if (chance(0.04)) {
        return pick(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@DAILY"]);
    }
    const fields = chance(0.4) ? 6 : chance(0.15) ? 7 : 5;
    // Fixed-time schedules (one value in second, minute and hour) get a large share: their DST
    // rules are the interesting ones.
    const fixed = chance(0.35);
    const sec = fixed ? String(int(0, 59)) : numericField(0, 59, { star: 0.2, single: 0.5 });
    const min = fixed ? String(int(0, 59)) : numericField(0, 59);
    // Hours near DST transitions (0-3) are favoured.
    const hour = fixed
        ? String(chance(0.6) ? int(0, 3) : int(0, 23))
        : chance(0.3) ? `${int(0, 2)}-${int(2, 4)}` : numericField(0, 23);
    const dom = domField();
    const month = numericField(1, 12, { star: 0.6, single: 0.15, name: monthName });
    const dow = dowField();
    const parts = [min, hour, dom, month, dow];
    if (fields >= 6) parts.unshift(sec);
    if (fields === 7) parts.push(chance(0.5) ? "*" : chance(0.5) ? String(int(2000, 2045)) : `${int(2000, 2030)}-${int(2030, 2045)}`);
    return parts.join(" ");
}

// Offsets (minutes east of UTC) through Intl, for finding transitions independently of tzdata
// on the C++ side.
const formatters = new Map();
function offsetMinutes(zone, ms) {
    let f = formatters.get(zone);
    if (!f) {
        f = new Intl.DateTimeFormat("en-US", {
            timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric",
            hour: "numeric", minute: "numeric", second: "numeric",
        });
        formatters.set(zone, f);
    }
    const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
    const local = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
    return Math.round((local - Math.floor(ms / 1000) * 1000) / 60000);
}

const YEAR_MS = 365.2425 * 86400000;
const start2000 = Date.UTC(2000, 0, 1);
const end2040 = Date.UTC(2041, 0, 1);

// Every transition of a zone in 2000-2040: a daily scan, then bisection to the second.
const transitionCache = new Map();
function transitions(zone) {
    if (transitionCache.has(zone)) return transitionCache.get(zone);
    const out = [];
    let prev = offsetMinutes(zone, start2000);
    for (let t = start2000 + 86400000; t < end2040; t += 86400000) {
        const cur = offsetMinutes(zone, t);
        if (cur !== prev) {
            let lo = t - 86400000, hi = t;
            while (hi - lo > 1000) {
                const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
                if (offsetMinutes(zone, mid) === prev) lo = mid; else hi = mid;
            }
            out.push(hi);
            prev = cur;
        }
    }
    transitionCache.set(zone, out);
    return out;
}

function fromInstant(zone) {
    const list = transitions(zone);
    let ms;
    if (list.length > 0 && chance(0.7)) {
        // Shortly before a transition (up to two days), sometimes inside a repeated hour.
        const tr = pick(list);
        ms = tr - int(0, 2 * 86400) * 1000;
        if (chance(0.3)) ms = tr - int(0, 3 * 3600) * 1000;
        if (chance(0.1)) ms = tr + int(-5, 5) * 1000;
    } else {
        ms = start2000 + Math.floor(random() * (end2040 - start2000) / 1000) * 1000;
    }
    return new Date(Math.floor(ms / 1000) * 1000);
}

const iso = (d) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

function cronerRuns(expr, zone, from, n) {
    try {
        const job = new Cron(expr, { timezone: zone, sloppyRanges: true, paused: true });
        return job.nextRuns(n, from).map(iso);
    } catch (e) {
        return { error: e.message };
    }
}

// Expressions both engines must reject.
const invalid = [
    "* * * *", "* * * * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *",
    "* * * 13 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *", "* * * * MON#6", "* * * * 1#0",
    "* * 1W-5 * *", "* * * JANUARY *", "* * * * FOO", "a * * * *", "* * * * * 10000",
    "*/61 * * * *", "@reboot", "@foo",
];

async function main() {
    const child = spawn(driver, [], { stdio: ["pipe", "pipe", "inherit"] });
    const lines = createInterface({ input: child.stdout });
    const pending = [];
    let current = [];
    lines.on("line", (line) => {
        if (line === "END") {
            pending.shift()(current);
            current = [];
        } else {
            current.push(line);
        }
    });
    const ask = (expr, zone, from, n) =>
        new Promise((resolve) => {
            pending.push(resolve);
            child.stdin.write(`${expr}\t${zone}\t${iso(from)}\t${n}\n`);
        });

    const cases = [];
    for (const expr of invalid) cases.push({ expr, zone: "UTC", from: new Date(Date.UTC(2026, 0, 1)) });
    while (cases.length < caseCount) {
        const zone = pick(zones);
        cases.push({ expr: expression(), zone, from: fromInstant(zone) });
    }

    let disagreements = 0, rejectedBoth = 0, fires = 0, dstCases = 0;
    const shown = [];
    const answers = await Promise.all(cases.map((c) => ask(c.expr, c.zone, c.from, runsPerCase)));
    child.stdin.end();
    cases.forEach((c, i) => {
        const ours = answers[i];
        const theirs = cronerRuns(c.expr, c.zone, c.from, runsPerCase);
        const oursError = ours.length === 1 && ours[0].startsWith("ERROR");
        let agree;
        if (!Array.isArray(theirs) || oursError) {
            agree = !Array.isArray(theirs) && oursError;
            if (agree) rejectedBoth++;
        } else {
            agree = theirs.length === ours.length && theirs.every((t, k) => t === ours[k]);
            fires += theirs.length;
            const tr = transitions(c.zone);
            if (theirs.length > 0 && tr.some((t) => t > c.from.getTime() && t <= Date.parse(theirs[theirs.length - 1]))) dstCases++;
        }
        if (!agree) {
            disagreements++;
            if (shown.length < 25) shown.push({ ...c, from: iso(c.from), sluice: ours, croner: theirs });
        }
    });
    for (const s of shown) console.log(JSON.stringify(s));
    console.log(`croner ${(await import("croner/package.json", { with: { type: "json" } })).default.version}, seed ${seed}: ` +
        `${cases.length} cases (${cases.length - rejectedBoth} valid, ${rejectedBoth} rejected by both, ` +
        `${dstCases} crossing a DST transition), ${fires} fire times compared, ${disagreements} disagreements`);
    process.exit(disagreements === 0 ? 0 : 1);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
