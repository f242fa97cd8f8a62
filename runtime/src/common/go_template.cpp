#include "common/go_template.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "common/error.hpp"

namespace minirt {

using nlohmann::json;

namespace {

// Deeper nesting than any format needs is refused, so that a hostile
// template cannot exhaust the stack.
constexpr int kMaxDepth = 64;

[[noreturn]] void fail(const std::string& what) { throw Error("template: " + what); }

// ---- Tokens -------------------------------------------------------------

enum class Tok { Field, Dot, Variable, Declare, Assign, Comma, Pipe, LParen, RParen, String, Number, Word, End };

struct Token {
    Tok kind;
    std::string text;  // a field's or variable's name, a word, a string's value
    bool glued = false;  // no space before it (`.A.B`, `$x.A`, `(...).A`)
};

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string describe(const std::string& action) { return "{{" + action + "}}"; }

// The tokens of one action's text (between the delimiters).
std::vector<Token> lex_action(const std::string& s) {
    std::vector<Token> out;
    size_t i = 0;
    bool space = true;
    auto push = [&](Tok k, std::string text) {
        out.push_back({k, std::move(text), !space});
        space = false;
    };
    while (i < s.size()) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = true;
            ++i;
        } else if (c == '.') {
            size_t j = i + 1;
            while (j < s.size() && word_char(s[j])) ++j;
            if (j == i + 1) {
                if (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) fail("bad number in " + describe(s));
                push(Tok::Dot, ".");
            } else {
                push(Tok::Field, s.substr(i + 1, j - i - 1));
            }
            i = j;
        } else if (c == '$') {
            size_t j = i + 1;
            while (j < s.size() && word_char(s[j])) ++j;
            push(Tok::Variable, s.substr(i, j - i));
            i = j;
        } else if (c == ':' && i + 1 < s.size() && s[i + 1] == '=') {
            push(Tok::Declare, ":=");
            i += 2;
        } else if (c == '=') {
            push(Tok::Assign, "=");
            ++i;
        } else if (c == ',') {
            push(Tok::Comma, ",");
            ++i;
        } else if (c == '|') {
            push(Tok::Pipe, "|");
            ++i;
        } else if (c == '(') {
            push(Tok::LParen, "(");
            ++i;
        } else if (c == ')') {
            push(Tok::RParen, ")");
            ++i;
        } else if (c == '"') {
            std::string v;
            size_t j = i + 1;
            for (;; ++j) {
                if (j >= s.size()) fail("unterminated quoted string in " + describe(s));
                if (s[j] == '"') break;
                if (s[j] == '\\' && j + 1 < s.size()) {
                    char e = s[++j];
                    switch (e) {
                        case 'n': v += '\n'; break;
                        case 't': v += '\t'; break;
                        case 'r': v += '\r'; break;
                        case '\\': v += '\\'; break;
                        case '"': v += '"'; break;
                        case '\'': v += '\''; break;
                        default: fail(std::string("unknown escape \\") + e + " in " + describe(s));
                    }
                } else {
                    v += s[j];
                }
            }
            push(Tok::String, std::move(v));
            i = j + 1;
        } else if (c == '`') {
            size_t j = s.find('`', i + 1);
            if (j == std::string::npos) fail("unterminated raw string in " + describe(s));
            push(Tok::String, s.substr(i + 1, j - i - 1));
            i = j + 1;
        } else if (std::isdigit(static_cast<unsigned char>(c)) || ((c == '-' || c == '+') && i + 1 < s.size() &&
                                                                    std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
            size_t j = i + 1;
            while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '.' || s[j] == '_' ||
                                    ((s[j] == '-' || s[j] == '+') && (s[j - 1] == 'e' || s[j - 1] == 'E'))))
                ++j;
            push(Tok::Number, s.substr(i, j - i));
            i = j;
        } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            size_t j = i;
            while (j < s.size() && word_char(s[j])) ++j;
            push(Tok::Word, s.substr(i, j - i));
            i = j;
        } else {
            fail(std::string("unexpected \"") + c + "\" in " + describe(s));
        }
    }
    out.push_back({Tok::End, "", false});
    return out;
}

// ---- The tree -----------------------------------------------------------

struct Pipeline;

// One operand of a command.
struct Operand {
    enum Kind { Field, Variable, Dot, Literal, Function, Sub } kind;
    std::string name;                 // Variable: "$x"; Function: its name
    std::vector<std::string> chain;   // fields after it (Field: all of them)
    json literal;                     // Literal: a string, number, bool or null
    std::shared_ptr<Pipeline> sub;    // Sub: (pipeline)
};

struct Command {
    std::vector<Operand> args;
};

struct Pipeline {
    std::vector<std::string> vars;  // $x := or $i, $e := (range)
    bool assign = false;            // = rather than :=
    std::vector<Command> commands;
    std::string text;               // the action, for messages
};

struct Node;

}  // namespace

struct TemplateList {
    std::vector<Node> nodes;
};

namespace {

struct Node {
    enum Kind { Text, Action, If, Range, With } kind;
    std::string text;  // Text
    Pipeline pipe;     // the others
    std::shared_ptr<TemplateList> body, otherwise;
};

const std::set<std::string, std::less<>> kFunctions{"and", "or",   "not",   "len",   "index", "print", "printf",
                                                     "println", "eq", "ne", "lt", "le", "gt", "ge", "json",
                                                     "join", "lower", "upper", "title", "split", "truncate"};

// ---- Parser -------------------------------------------------------------

// The template cut into text and actions, trim markers applied.
struct Piece {
    bool action;
    std::string text;
};

std::vector<Piece> split_pieces(std::string_view t) {
    std::vector<Piece> out;
    size_t i = 0;
    while (i < t.size()) {
        size_t open = t.find("{{", i);
        if (open == std::string_view::npos) {
            out.push_back({false, std::string(t.substr(i))});
            break;
        }
        std::string text(t.substr(i, open - i));
        size_t p = open + 2;
        bool trim_left = p + 1 < t.size() && t[p] == '-' && std::isspace(static_cast<unsigned char>(t[p + 1]));
        if (trim_left) {
            p += 2;
            while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
        }
        if (!text.empty()) out.push_back({false, std::move(text)});
        // The action ends at the first "}}" outside a quoted string.
        size_t q = p;
        size_t close = std::string_view::npos;
        bool comment = t.compare(p, 2, "/*") == 0;
        if (comment) {
            size_t end = t.find("*/", p + 2);
            if (end == std::string_view::npos) fail("unclosed comment");
            q = end + 2;
        }
        while (q < t.size()) {
            char c = t[q];
            if (c == '"' || c == '`') {
                size_t r = q + 1;
                while (r < t.size() && t[r] != c) r += (c == '"' && t[r] == '\\') ? 2u : 1u;
                if (r >= t.size()) fail("unterminated quoted string in {{" + std::string(t.substr(p)));
                q = r + 1;
                continue;
            }
            if (t.compare(q, 2, "}}") == 0) {
                close = q;
                break;
            }
            ++q;
        }
        if (close == std::string_view::npos) fail("unclosed action {{" + std::string(t.substr(p)));
        size_t end = close;
        bool trim_right = end >= p + 2 && t[end - 1] == '-' && std::isspace(static_cast<unsigned char>(t[end - 2]));
        if (trim_right) end -= 2;
        if (comment) {
            std::string_view rest = t.substr(p, end - p);
            while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back()))) rest.remove_suffix(1);
            if (!rest.ends_with("*/")) fail("comment ends before closing delimiter");
        } else {
            out.push_back({true, std::string(t.substr(p, end - p))});
        }
        i = close + 2;
        if (trim_right)
            while (i < t.size() && std::isspace(static_cast<unsigned char>(t[i]))) ++i;
    }
    return out;
}

class Parser {
public:
    Parser(std::vector<Piece> pieces, std::set<std::string, std::less<>>& fields, bool& whole)
        : pieces_(std::move(pieces)), fields_(fields), whole_(whole) {}

    std::unique_ptr<TemplateList> parse_all() {
        auto list = std::make_unique<TemplateList>();
        std::string stop = parse_list(*list, 0);
        if (!stop.empty()) fail("unexpected {{" + stop + "}}");
        return list;
    }

private:
    std::vector<Piece> pieces_;
    size_t at_ = 0;
    std::set<std::string, std::less<>>& fields_;
    bool& whole_;
    // Variables in scope, for "undefined variable" at parse time, as Go.
    std::vector<std::string> vars_{"$"};

    // Parses nodes until {{end}} or {{else ...}} (returned, as its action
    // text) or the end (""). `depth` bounds the nesting.
    std::string parse_list(TemplateList& list, int depth) {
        if (depth > kMaxDepth) fail("nested too deeply");
        while (at_ < pieces_.size()) {
            Piece& piece = pieces_[at_++];
            if (!piece.action) {
                list.nodes.push_back(Node{Node::Text, std::move(piece.text), {}, nullptr, nullptr});
                continue;
            }
            std::vector<Token> toks = lex_action(piece.text);
            if (toks.front().kind == Tok::Word) {
                const std::string& w = toks.front().text;
                if (w == "end" || w == "else") return trimmed(piece.text);
                if (w == "if" || w == "range" || w == "with") {
                    list.nodes.push_back(parse_control(w, toks, piece.text, depth));
                    continue;
                }
                if (w == "template" || w == "define" || w == "block" || w == "break" || w == "continue")
                    fail("{{" + w + "}} is not supported in --format");
            }
            if (toks.front().kind == Tok::End) fail("missing value for command in {{" + piece.text + "}}");
            Node n{Node::Action, {}, {}, nullptr, nullptr};
            size_t pos = 0;
            n.pipe = parse_pipeline(toks, pos, piece.text, depth, true);
            if (pos != toks.size() - 1) fail("unexpected " + token_text(toks[pos]) + " in {{" + piece.text + "}}");
            list.nodes.push_back(std::move(n));
        }
        return "";
    }

    static std::string trimmed(const std::string& s) {
        size_t a = s.find_first_not_of(" \t\n\r");
        size_t b = s.find_last_not_of(" \t\n\r");
        return a == std::string::npos ? "" : s.substr(a, b - a + 1);
    }

    Node parse_control(const std::string& word, const std::vector<Token>& toks, const std::string& text, int depth) {
        Node n{word == "if" ? Node::If : word == "range" ? Node::Range : Node::With, {}, {}, nullptr, nullptr};
        size_t mark = vars_.size();
        size_t pos = 1;
        if (toks[pos].kind == Tok::End) fail("missing value for " + word + " in {{" + text + "}}");
        n.pipe = parse_pipeline(toks, pos, text, depth, true, word == "range");
        if (pos != toks.size() - 1) fail("unexpected " + token_text(toks[pos]) + " in {{" + text + "}}");
        n.body = std::make_shared<TemplateList>();
        std::string stop = parse_list(*n.body, depth + 1);
        vars_.resize(mark);
        if (stop.empty()) fail("unexpected EOF: {{" + text + "}} has no {{end}}");
        if (stop == "end") return n;
        // {{else}}, or {{else if ...}} / {{else with ...}}: a nested node
        // that ends at the same {{end}}.
        n.otherwise = std::make_shared<TemplateList>();
        std::vector<Token> et = lex_action(stop);
        if (et.size() > 2 && et[1].kind == Tok::Word && (et[1].text == "if" || et[1].text == "with") &&
            et[1].text == (n.kind == Node::With ? "with" : "if") && n.kind != Node::Range) {
            std::vector<Token> rest(et.begin() + 1, et.end());
            n.otherwise->nodes.push_back(parse_control(et[1].text, rest, stop, depth + 1));
            return n;
        }
        if (et.size() != 2) fail("unexpected {{" + stop + "}}");
        stop = parse_list(*n.otherwise, depth + 1);
        vars_.resize(mark);
        if (stop != "end") fail(stop.empty() ? "unexpected EOF: {{" + text + "}} has no {{end}}"
                                             : "unexpected {{" + stop + "}}");
        return n;
    }

    static std::string token_text(const Token& t) {
        switch (t.kind) {
            case Tok::Field: return "\"." + t.text + "\"";
            case Tok::String: return "quoted string";
            case Tok::End: return "end of action";
            default: return "\"" + t.text + "\"";
        }
    }

    Pipeline parse_pipeline(const std::vector<Token>& toks, size_t& pos, const std::string& text, int depth,
                            bool decl_allowed, bool range = false) {
        if (depth > kMaxDepth) fail("nested too deeply");
        Pipeline p;
        p.text = text;
        // $x := ..., $i, $e := ... (range), $x = ...
        if (decl_allowed && toks[pos].kind == Tok::Variable) {
            size_t q = pos;
            std::vector<std::string> vars{toks[q].text};
            if (range && toks[q + 1].kind == Tok::Comma && toks[q + 2].kind == Tok::Variable) {
                vars.push_back(toks[q + 2].text);
                q += 2;
            }
            if (toks[q + 1].kind == Tok::Declare || toks[q + 1].kind == Tok::Assign) {
                p.assign = toks[q + 1].kind == Tok::Assign;
                if (p.assign && vars.size() > 1) fail("too many declarations in {{" + text + "}}");
                for (const auto& v : vars) {
                    if (p.assign && std::find(vars_.begin(), vars_.end(), v) == vars_.end())
                        fail("undefined variable " + v + " in {{" + text + "}}");
                }
                p.vars = vars;
                pos = q + 2;
            }
        }
        for (;;) {
            Command c;
            while (toks[pos].kind != Tok::Pipe && toks[pos].kind != Tok::End && toks[pos].kind != Tok::RParen)
                c.args.push_back(parse_operand(toks, pos, text, depth));
            if (c.args.empty()) fail("missing value for command in {{" + text + "}}");
            if (c.args.size() > 1 && c.args[0].kind != Operand::Function)
                fail("can't give argument to non-function in {{" + text + "}}");
            p.commands.push_back(std::move(c));
            if (toks[pos].kind != Tok::Pipe) break;
            ++pos;
        }
        // Piped into: a function, or nothing else can take the value.
        for (size_t i = 1; i < p.commands.size(); ++i)
            if (p.commands[i].args[0].kind != Operand::Function)
                fail("can't give argument to non-function in {{" + text + "}}");
        if (!p.assign)
            for (const auto& v : p.vars) vars_.push_back(v);
        return p;
    }

    void chain_after(const std::vector<Token>& toks, size_t& pos, Operand& o) {
        while (toks[pos].kind == Tok::Field && toks[pos].glued) {
            fields_.insert(toks[pos].text);
            o.chain.push_back(toks[pos++].text);
        }
    }

    Operand parse_operand(const std::vector<Token>& toks, size_t& pos, const std::string& text, int depth) {
        const Token& t = toks[pos];
        Operand o{Operand::Literal, {}, {}, nullptr, nullptr};
        switch (t.kind) {
            case Tok::Field:
                o.kind = Operand::Field;
                fields_.insert(t.text);
                o.chain.push_back(t.text);
                ++pos;
                chain_after(toks, pos, o);
                return o;
            case Tok::Dot:
                o.kind = Operand::Dot;
                whole_ = true;
                ++pos;
                return o;
            case Tok::Variable:
                if (std::find(vars_.begin(), vars_.end(), t.text) == vars_.end())
                    fail("undefined variable " + t.text + " in {{" + text + "}}");
                o.kind = Operand::Variable;
                o.name = t.text;
                ++pos;
                chain_after(toks, pos, o);
                if (o.chain.empty()) whole_ = true;
                return o;
            case Tok::String:
                o.literal = t.text;
                ++pos;
                return o;
            case Tok::Number:
                o.literal = parse_number(t.text, text);
                ++pos;
                return o;
            case Tok::LParen: {
                ++pos;
                o.kind = Operand::Sub;
                o.sub = std::make_shared<Pipeline>(parse_pipeline(toks, pos, text, depth + 1, false));
                if (toks[pos].kind != Tok::RParen) fail("unclosed left paren in {{" + text + "}}");
                ++pos;
                chain_after(toks, pos, o);
                return o;
            }
            case Tok::Word:
                ++pos;
                if (t.text == "true" || t.text == "false") {
                    o.literal = t.text == "true";
                } else if (t.text == "nil") {
                    o.literal = nullptr;
                } else if (kFunctions.count(t.text)) {
                    o.kind = Operand::Function;
                    o.name = t.text;
                } else {
                    fail("function \"" + t.text + "\" not defined in {{" + text + "}}");
                }
                return o;
            default:
                fail("unexpected " + token_text(t) + " in {{" + text + "}}");
        }
    }

    static json parse_number(const std::string& s, const std::string& text) {
        errno = 0;
        char* end = nullptr;
        if (s.find_first_of(".eE") == std::string::npos || s.starts_with("0x") || s.starts_with("0X")) {
            long long v = std::strtoll(s.c_str(), &end, 0);
            if (errno == 0 && end && *end == '\0') return v;
        } else {
            double d = std::strtod(s.c_str(), &end);
            if (errno == 0 && end && *end == '\0' && std::isfinite(d)) return d;
        }
        fail("bad number syntax: \"" + s + "\" in {{" + text + "}}");
    }
};

// ---- Values -------------------------------------------------------------

// A value during execution: a json in the data (or computed), or none at
// all (a key missing from a map: "<no value>").
struct Value {
    std::shared_ptr<const json> owned;
    const json* p = nullptr;
    bool map = false;  // an object that is a map, not a struct

    static Value of(json v) {
        auto sp = std::make_shared<const json>(std::move(v));
        Value r;
        r.p = sp.get();
        r.owned = std::move(sp);
        return r;
    }
    static Value ref(const json& j, bool is_map) {
        Value r;
        r.p = &j;
        r.map = is_map;
        return r;
    }
    bool missing() const { return p == nullptr; }
};

std::string type_name(const Value& v) {
    if (v.missing()) return "<no value>";
    switch (v.p->type()) {
        case json::value_t::null: return "nil";
        case json::value_t::string: return "string";
        case json::value_t::boolean: return "bool";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned: return "int";
        case json::value_t::number_float: return "float64";
        case json::value_t::array: return "slice";
        case json::value_t::object: return v.map ? "map" : "struct";
        default: return "value";
    }
}

std::string format_float(double d) {
    // Go's %v for a float64: the fewest digits that read back the same
    // value, in %e form for an exponent below -4 or from 6 up (strconv's
    // 'g' with the shortest precision).
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
    if (d == 0) return std::signbit(d) ? "-0" : "0";
    char buf[64];
    int prec = 0;
    for (; prec < 17; ++prec) {
        std::snprintf(buf, sizeof buf, "%.*e", prec, d);
        if (std::strtod(buf, nullptr) == d) break;
    }
    int exp10 = std::atoi(std::strchr(buf, 'e') + 1);
    int digits = prec + 1, point = exp10 + 1;
    int eprec = (6 > digits && digits >= point) ? digits : 6;
    if (exp10 < -4 || exp10 >= eprec) return buf;
    std::snprintf(buf, sizeof buf, "%.*f", std::max(0, prec - exp10), d);
    return buf;
}

void print_json(const json& j, std::string& out) {
    switch (j.type()) {
        case json::value_t::null: out += "<nil>"; break;
        case json::value_t::string: out += j.get_ref<const std::string&>(); break;
        case json::value_t::boolean: out += j.get<bool>() ? "true" : "false"; break;
        case json::value_t::number_integer: out += std::to_string(j.get<int64_t>()); break;
        case json::value_t::number_unsigned: out += std::to_string(j.get<uint64_t>()); break;
        case json::value_t::number_float: out += format_float(j.get<double>()); break;
        case json::value_t::array: {
            out += '[';
            bool first = true;
            for (const auto& e : j) {
                if (!first) out += ' ';
                first = false;
                print_json(e, out);
            }
            out += ']';
            break;
        }
        case json::value_t::object: {
            out += "map[";
            bool first = true;
            for (const auto& [k, v] : j.items()) {
                if (!first) out += ' ';
                first = false;
                out += k;
                out += ':';
                print_json(v, out);
            }
            out += ']';
            break;
        }
        default: break;
    }
}

std::string print_value(const Value& v) {
    if (v.missing()) return "<no value>";
    std::string out;
    print_json(*v.p, out);
    return out;
}

bool truth(const Value& v) {
    if (v.missing()) return false;
    const json& j = *v.p;
    switch (j.type()) {
        case json::value_t::null: return false;
        case json::value_t::boolean: return j.get<bool>();
        case json::value_t::number_integer: return j.get<int64_t>() != 0;
        case json::value_t::number_unsigned: return j.get<uint64_t>() != 0;
        case json::value_t::number_float: return j.get<double>() != 0;
        case json::value_t::string: return !j.get_ref<const std::string&>().empty();
        case json::value_t::array:
        case json::value_t::object: return !j.empty();
        default: return false;
    }
}

// ---- printf ---------------------------------------------------------------

std::string go_quote(const std::string& s) {
    std::string out = "\"";
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\x%02x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out + "\"";
}

std::string bad_verb(char verb, const Value& v) {
    return std::string("%!") + verb + "(" + type_name(v) + "=" + print_value(v) + ")";
}

std::string format_one(char verb, const std::string& flags, int width, int precision, const Value& v) {
    std::string body;
    const json* j = v.p;
    bool is_int = j && j->is_number_integer();
    bool is_num = j && j->is_number();
    switch (verb) {
        case 'v': body = print_value(v); break;
        case 's':
            if (j && (j->is_string() || j->is_array() || j->is_object() || j->is_null())) body = print_value(v);
            else return bad_verb(verb, v);
            if (precision >= 0 && body.size() > static_cast<size_t>(precision)) body.resize(static_cast<size_t>(precision));
            break;
        case 'q':
            if (j && j->is_string()) body = go_quote(j->get<std::string>());
            else return bad_verb(verb, v);
            break;
        case 'd':
            if (!is_int) return bad_verb(verb, v);
            body = j->is_number_unsigned() ? std::to_string(j->get<uint64_t>()) : std::to_string(j->get<int64_t>());
            if (flags.find('+') != std::string::npos && body[0] != '-') body = "+" + body;
            break;
        case 'x':
        case 'X': {
            char buf[64];
            if (is_int) {
                long long n = j->get<long long>();
                std::snprintf(buf, sizeof buf, verb == 'x' ? "%llx" : "%llX", static_cast<unsigned long long>(std::llabs(n)));
                body = (n < 0 ? "-" : "") + std::string(buf);
            } else if (j && j->is_string()) {
                for (char c : j->get_ref<const std::string&>()) {
                    std::snprintf(buf, sizeof buf, verb == 'x' ? "%02x" : "%02X", static_cast<unsigned char>(c));
                    body += buf;
                }
            } else {
                return bad_verb(verb, v);
            }
            break;
        }
        case 'f':
        case 'F':
        case 'e':
        case 'g': {
            if (!is_num || is_int) return bad_verb(verb, v);
            char buf[512];
            char f[8] = {'%', '.', '*', verb == 'F' ? 'f' : verb, '\0'};
            std::snprintf(buf, sizeof buf, f, precision >= 0 ? std::min(precision, 100) : 6, j->get<double>());
            body = buf;
            if (verb == 'g' && precision < 0) body = format_float(j->get<double>());
            break;
        }
        case 't':
            if (!j || !j->is_boolean()) return bad_verb(verb, v);
            body = j->get<bool>() ? "true" : "false";
            break;
        case 'c':
            if (!is_int) return bad_verb(verb, v);
            body = std::string(1, static_cast<char>(j->get<int64_t>() & 0x7f));
            break;
        default: return std::string("%!") + verb + "(" + type_name(v) + "=" + print_value(v) + ")";
    }
    if (width > 0 && body.size() < static_cast<size_t>(width)) {
        size_t pad = static_cast<size_t>(width) - body.size();
        if (flags.find('-') != std::string::npos) body.append(pad, ' ');
        else if (flags.find('0') != std::string::npos && is_num) {
            size_t sign = (!body.empty() && (body[0] == '-' || body[0] == '+')) ? 1 : 0;
            body.insert(sign, pad, '0');
        } else
            body.insert(0, pad, ' ');
    }
    return body;
}

std::string go_printf(const std::string& fmt, const std::vector<Value>& args) {
    std::string out;
    size_t next = 0;
    for (size_t i = 0; i < fmt.size(); ++i) {
        if (fmt[i] != '%') {
            out += fmt[i];
            continue;
        }
        if (++i >= fmt.size()) {
            out += "%!(NOVERB)";
            break;
        }
        std::string flags;
        while (i < fmt.size() && std::string_view("-+ #0").find(fmt[i]) != std::string_view::npos) flags += fmt[i++];
        int width = 0, precision = -1;
        while (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i])) && width < 10000)
            width = width * 10 + (fmt[i++] - '0');
        if (i < fmt.size() && fmt[i] == '.') {
            precision = 0;
            ++i;
            while (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i])) && precision < 10000)
                precision = precision * 10 + (fmt[i++] - '0');
        }
        if (i >= fmt.size()) {
            out += "%!(NOVERB)";
            break;
        }
        char verb = fmt[i];
        if (verb == '%') {
            out += '%';
            continue;
        }
        if (next >= args.size()) {
            out += std::string("%!") + verb + "(MISSING)";
            continue;
        }
        out += format_one(verb, flags, width, precision, args[next++]);
    }
    if (next < args.size()) {
        out += "%!(EXTRA ";
        for (size_t k = next; k < args.size(); ++k) {
            if (k > next) out += ", ";
            out += type_name(args[k]) + "=" + print_value(args[k]);
        }
        out += ")";
    }
    return out;
}

// ---- Execution ------------------------------------------------------------

std::string title_case(std::string s) {
    bool start = true;
    for (char& c : s) {
        bool letter = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '\'' ||
                      static_cast<unsigned char>(c) >= 0x80;
        if (start && letter) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        start = !letter;
    }
    return s;
}

class Executor {
public:
    Executor(const json& root, const std::set<std::string, std::less<>>& maps) : maps_(maps) {
        vars_.emplace_back("$", Value::ref(root, false));
    }

    void run(const TemplateList& list, const Value& dot, int depth) {
        if (depth > kMaxDepth) fail("nested too deeply");
        size_t mark = vars_.size();
        for (const Node& n : list.nodes) {
            switch (n.kind) {
                case Node::Text: out += n.text; break;
                case Node::Action: {
                    Value v = pipeline(n.pipe, dot, depth);
                    if (n.pipe.vars.empty()) out += print_value(v);
                    break;
                }
                case Node::If:
                case Node::With: {
                    size_t inner = vars_.size();
                    Value v = pipeline(n.pipe, dot, depth);
                    if (truth(v)) run(*n.body, n.kind == Node::With ? v : dot, depth + 1);
                    else if (n.otherwise) run(*n.otherwise, dot, depth + 1);
                    vars_.resize(inner);
                    break;
                }
                case Node::Range: range(n, dot, depth); break;
            }
            if (out.size() > kMaxOutput) fail("output larger than 64 MiB");
        }
        vars_.resize(mark);
    }

    std::string out;

private:
    static constexpr size_t kMaxOutput = 64u << 20;
    const std::set<std::string, std::less<>>& maps_;
    std::vector<std::pair<std::string, Value>> vars_;

    void range(const Node& n, const Value& dot, int depth) {
        // The value, without the declaration: range binds its own.
        Pipeline p = n.pipe;
        std::vector<std::string> names = std::move(p.vars);
        p.vars.clear();
        Value v = pipeline(p, dot, depth);
        size_t mark = vars_.size();
        bool any = false;
        auto each = [&](const json& key, const json& elem) {
            any = true;
            vars_.resize(mark);
            Value e = Value::ref(elem, false);
            if (v.owned) e.owned = v.owned;  // keeps a computed collection alive
            if (names.size() == 1) vars_.emplace_back(names[0], e);
            if (names.size() == 2) {
                vars_.emplace_back(names[0], Value::of(key));
                vars_.emplace_back(names[1], e);
            }
            run(*n.body, e, depth + 1);
        };
        if (!v.missing() && v.p->is_array()) {
            for (size_t i = 0; i < v.p->size(); ++i) each(json(i), (*v.p)[i]);
        } else if (!v.missing() && v.p->is_object()) {
            for (const auto& [k, e] : v.p->items()) each(json(k), e);
        } else if (!v.missing() && !v.p->is_null()) {
            fail("range can't iterate over " + print_value(v) + " in {{" + n.pipe.text + "}}");
        }
        vars_.resize(mark);
        if (!any && n.otherwise) run(*n.otherwise, dot, depth + 1);
    }

    Value pipeline(const Pipeline& p, const Value& dot, int depth) {
        if (depth > kMaxDepth) fail("nested too deeply");
        std::optional<Value> piped;
        for (const Command& c : p.commands) piped = command(c, dot, piped, p.text, depth);
        Value v = *piped;
        if (!p.vars.empty()) {
            if (p.assign) {
                for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
                    if (it->first == p.vars[0]) {
                        it->second = v;
                        break;
                    }
            } else {
                vars_.emplace_back(p.vars[0], v);
            }
        }
        return v;
    }

    Value field(const Value& v, const std::string& name, const std::string& text) {
        if (v.missing()) fail("nil pointer evaluating <no value>." + name + " in {{" + text + "}}");
        const json& j = *v.p;
        if (j.is_object()) {
            auto it = j.find(name);
            if (it == j.end()) {
                if (v.map) return Value{};
                fail("can't evaluate field " + name + " in {{" + text + "}}");
            }
            Value r = Value::ref(*it, maps_.count(name) > 0);
            r.owned = v.owned;
            return r;
        }
        if (j.is_null()) fail("nil pointer evaluating ." + name + " in {{" + text + "}}");
        fail("can't evaluate field " + name + " in type " + type_name(v) + " in {{" + text + "}}");
    }

    Value chain(Value v, const std::vector<std::string>& names, const std::string& text) {
        for (const auto& n : names) v = field(v, n, text);
        return v;
    }

    Value variable(const std::string& name) {
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
            if (it->first == name) return it->second;
        fail("undefined variable " + name);
    }

    Value operand(const Operand& o, const Value& dot, const std::string& text, int depth) {
        switch (o.kind) {
            case Operand::Field: return chain(dot, o.chain, text);
            case Operand::Dot: return dot;
            case Operand::Variable: return chain(variable(o.name), o.chain, text);
            case Operand::Literal: return Value::of(o.literal);
            case Operand::Sub: return chain(pipeline(*o.sub, dot, depth + 1), o.chain, text);
            case Operand::Function: return call(o.name, {}, dot, std::nullopt, text, depth);
        }
        return {};
    }

    Value command(const Command& c, const Value& dot, const std::optional<Value>& piped, const std::string& text,
                  int depth) {
        const Operand& first = c.args[0];
        if (first.kind != Operand::Function) return operand(first, dot, text, depth);
        std::vector<const Operand*> rest;
        for (size_t i = 1; i < c.args.size(); ++i) rest.push_back(&c.args[i]);
        return call(first.name, rest, dot, piped, text, depth);
    }

    Value call(const std::string& fn, const std::vector<const Operand*>& ops, const Value& dot,
               const std::optional<Value>& piped, const std::string& text, int depth) {
        size_t argc = ops.size() + (piped ? 1 : 0);
        auto arg = [&](size_t i) -> Value {
            if (i < ops.size()) return operand(*ops[i], dot, text, depth);
            return *piped;
        };
        auto need = [&](size_t lo, size_t hi) {
            if (argc < lo || argc > hi)
                fail("wrong number of args for " + fn + ": want " + (lo == hi ? std::to_string(lo) : "at least " + std::to_string(lo)) +
                     " got " + std::to_string(argc) + " in {{" + text + "}}");
        };
        // and/or stop at the first value that decides, as Go's do.
        if (fn == "and" || fn == "or") {
            need(1, SIZE_MAX);
            Value v;
            for (size_t i = 0; i < argc; ++i) {
                v = arg(i);
                if (truth(v) != (fn == "and")) return v;
            }
            return v;
        }
        std::vector<Value> a;
        for (size_t i = 0; i < argc; ++i) a.push_back(arg(i));
        auto str = [&](size_t i, const char* what) -> const std::string& {
            if (a[i].missing() || !a[i].p->is_string())
                fail(fn + ": " + what + " must be a string, not " + type_name(a[i]) + " in {{" + text + "}}");
            return a[i].p->get_ref<const std::string&>();
        };
        if (fn == "not") {
            need(1, 1);
            return Value::of(!truth(a[0]));
        }
        if (fn == "len") {
            need(1, 1);
            if (a[0].missing() || !(a[0].p->is_string() || a[0].p->is_array() || a[0].p->is_object()))
                fail("len of " + type_name(a[0]) + " in {{" + text + "}}");
            return Value::of(a[0].p->is_string() ? a[0].p->get_ref<const std::string&>().size() : a[0].p->size());
        }
        if (fn == "index") {
            need(1, SIZE_MAX);
            Value v = a[0];
            for (size_t i = 1; i < a.size(); ++i) {
                if (v.missing() || v.p->is_null()) fail("index of untyped nil in {{" + text + "}}");
                const json& j = *v.p;
                const json* k = a[i].p;
                if (j.is_array() || j.is_string()) {
                    if (!k || !k->is_number_integer()) fail("cannot index slice with " + type_name(a[i]) + " in {{" + text + "}}");
                    auto n = k->get<int64_t>();
                    size_t size = j.is_array() ? j.size() : j.get_ref<const std::string&>().size();
                    if (n < 0 || static_cast<size_t>(n) >= size)
                        fail("index out of range: " + std::to_string(n) + " in {{" + text + "}}");
                    if (j.is_string()) {
                        v = Value::of(static_cast<unsigned char>(j.get_ref<const std::string&>()[static_cast<size_t>(n)]));
                    } else {
                        Value r = Value::ref(j[static_cast<size_t>(n)], false);
                        r.owned = v.owned;
                        v = r;
                    }
                } else if (j.is_object()) {
                    if (!k || !k->is_string()) fail("cannot index map with " + type_name(a[i]) + " in {{" + text + "}}");
                    auto it = j.find(k->get_ref<const std::string&>());
                    // A missing key gives the zero value of the map's
                    // elements (podman's maps are of strings): "".
                    if (it == j.end()) {
                        v = Value::of("");
                    } else {
                        Value r = Value::ref(*it, false);
                        r.owned = v.owned;
                        v = r;
                    }
                } else {
                    fail("can't index item of type " + type_name(v) + " in {{" + text + "}}");
                }
            }
            return v;
        }
        if (fn == "print" || fn == "println") {
            std::string s;
            for (size_t i = 0; i < a.size(); ++i) {
                bool is_str = !a[i].missing() && a[i].p->is_string();
                bool prev_str = i > 0 && !a[i - 1].missing() && a[i - 1].p->is_string();
                if (i > 0 && (fn == "println" || (!is_str && !prev_str))) s += ' ';
                s += print_value(a[i]);
            }
            if (fn == "println") s += '\n';
            return Value::of(s);
        }
        if (fn == "printf") {
            need(1, SIZE_MAX);
            std::vector<Value> rest(a.begin() + 1, a.end());
            return Value::of(go_printf(str(0, "the format"), rest));
        }
        if (fn == "eq" || fn == "ne" || fn == "lt" || fn == "le" || fn == "gt" || fn == "ge") {
            if (fn == "eq") need(2, SIZE_MAX);
            else need(2, 2);
            for (size_t i = 1; i < a.size(); ++i) {
                int c = compare(a[0], a[i], fn, text);
                bool r = fn == "eq" ? c == 0 : fn == "ne" ? c != 0 : fn == "lt" ? c < 0 : fn == "le" ? c <= 0
                         : fn == "gt" ? c > 0 : c >= 0;
                if (fn != "eq" || r) return Value::of(r);
            }
            return Value::of(false);
        }
        if (fn == "json") {
            need(1, 1);
            if (a[0].missing()) return Value::of("null");
            return Value::of(a[0].p->dump(-1, ' ', false, json::error_handler_t::replace));
        }
        if (fn == "join") {
            need(2, 2);
            const std::string& sep = str(1, "the separator");
            if (a[0].missing() || !a[0].p->is_array())
                fail("join: wrong type for value; expected []string; got " + type_name(a[0]) + " in {{" + text + "}}");
            std::string s;
            bool first = true;
            for (const auto& e : *a[0].p) {
                if (!e.is_string()) fail("join: wrong type for value; expected []string in {{" + text + "}}");
                if (!first) s += sep;
                first = false;
                s += e.get_ref<const std::string&>();
            }
            return Value::of(s);
        }
        if (fn == "lower" || fn == "upper" || fn == "title") {
            need(1, 1);
            std::string s = str(0, "the value");
            if (fn == "title") return Value::of(title_case(std::move(s)));
            for (char& c : s)
                c = static_cast<char>(fn == "lower" ? std::tolower(static_cast<unsigned char>(c))
                                                    : std::toupper(static_cast<unsigned char>(c)));
            return Value::of(s);
        }
        if (fn == "split") {
            need(2, 2);
            const std::string& s = str(0, "the value");
            const std::string& sep = str(1, "the separator");
            json parts = json::array();
            if (sep.empty()) {
                for (char c : s) parts.push_back(std::string(1, c));
            } else {
                size_t from = 0;
                for (;;) {
                    size_t at = s.find(sep, from);
                    parts.push_back(s.substr(from, at == std::string::npos ? std::string::npos : at - from));
                    if (at == std::string::npos) break;
                    from = at + sep.size();
                }
            }
            return Value::of(std::move(parts));
        }
        if (fn == "truncate") {
            need(2, 2);
            const std::string& s = str(0, "the value");
            if (a[1].missing() || !a[1].p->is_number_integer())
                fail("truncate: the length must be an integer in {{" + text + "}}");
            auto n = a[1].p->get<int64_t>();
            if (n < 0) n = 0;
            return Value::of(s.size() > static_cast<size_t>(n) ? s.substr(0, static_cast<size_t>(n)) : s);
        }
        fail("function \"" + fn + "\" not defined in {{" + text + "}}");
    }

    // Go's basic comparison: numbers with numbers, strings with strings,
    // bools with bools (eq and ne only); anything else is an error.
    static int compare(const Value& x, const Value& y, const std::string& fn, const std::string& text) {
        auto kind = [](const Value& v) -> int {
            if (v.missing() || v.p->is_null()) return 0;
            if (v.p->is_number()) return 1;
            if (v.p->is_string()) return 2;
            if (v.p->is_boolean()) return 3;
            return 4;
        };
        int kx = kind(x), ky = kind(y);
        if (kx == 4 || ky == 4) fail(fn + ": uncomparable type " + type_name(kx == 4 ? x : y) + " in {{" + text + "}}");
        if (kx == 0 || ky == 0) {
            if (fn != "eq" && fn != "ne") fail(fn + ": invalid type for comparison in {{" + text + "}}");
            return kx == ky ? 0 : 1;
        }
        if (kx != ky) fail(fn + ": incompatible types for comparison in {{" + text + "}}");
        if (kx == 3) {
            if (fn != "eq" && fn != "ne") fail(fn + ": invalid type for comparison in {{" + text + "}}");
            return x.p->get<bool>() == y.p->get<bool>() ? 0 : 1;
        }
        if (kx == 2) {
            int c = x.p->get_ref<const std::string&>().compare(y.p->get_ref<const std::string&>());
            return c < 0 ? -1 : c > 0 ? 1 : 0;
        }
        if (x.p->is_number_integer() && y.p->is_number_integer()) {
            auto a = x.p->get<int64_t>(), b = y.p->get<int64_t>();
            return a < b ? -1 : a > b ? 1 : 0;
        }
        double a = x.p->get<double>(), b = y.p->get<double>();
        return a < b ? -1 : a > b ? 1 : 0;
    }
};

// The last field an operand or pipeline names (a table's header).
const std::string* last_field(const Pipeline& p) {
    const std::string* found = nullptr;
    for (const Command& c : p.commands)
        for (const Operand& o : c.args) {
            if (o.kind == Operand::Sub) {
                if (const std::string* f = last_field(*o.sub)) found = f;
            }
            if (!o.chain.empty()) found = &o.chain.back();
        }
    return found;
}

}  // namespace

GoTemplate::GoTemplate() = default;
GoTemplate::GoTemplate(GoTemplate&&) noexcept = default;
GoTemplate& GoTemplate::operator=(GoTemplate&&) noexcept = default;
GoTemplate::~GoTemplate() = default;

GoTemplate GoTemplate::parse(std::string_view text) {
    GoTemplate t;
    Parser p(split_pieces(text), t.fields_, t.whole_);
    t.root_ = p.parse_all();
    return t;
}

std::string GoTemplate::execute(const json& data) const {
    Executor e(data, map_fields_);
    e.run(*root_, Value::ref(data, false), 0);
    return std::move(e.out);
}

std::string GoTemplate::headers(const std::function<std::string(const std::string&)>& header) const {
    std::string out;
    for (const Node& n : root_->nodes) {
        if (n.kind == Node::Text) out += n.text;
        else if (n.kind == Node::Action && n.pipe.vars.empty())
            if (const std::string* f = last_field(n.pipe)) out += header(*f);
    }
    return out;
}

FormatSpec normalize_format(std::string_view format) {
    FormatSpec spec;
    std::string_view f = format;
    if (f.starts_with("table")) {
        spec.table = true;
        f.remove_prefix(5);
        while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
    }
    int depth = 0;  // inside {{ }}: spaces there are the action's
    for (size_t i = 0; i < f.size(); ++i) {
        if (f.compare(i, 2, "{{") == 0) ++depth;
        if (f.compare(i, 2, "}}") == 0 && depth > 0) --depth;
        if (f[i] == '\\' && i + 1 < f.size() && (f[i + 1] == 't' || f[i + 1] == 'n')) {
            spec.text += f[i + 1] == 't' ? '\t' : '\n';
            ++i;
        } else if (spec.table && depth == 0 && f[i] == ' ') {
            // A table's columns are apart by spaces or tabs alike (podman's).
            while (i + 1 < f.size() && f[i + 1] == ' ') ++i;
            spec.text += '\t';
        } else {
            spec.text += f[i];
        }
    }
    if (spec.text.empty() || spec.text.back() != '\n') spec.text += '\n';
    return spec;
}

std::string header_of_field(std::string_view name) {
    std::string out;
    for (size_t i = 0; i < name.size(); ++i) {
        auto c = static_cast<unsigned char>(name[i]);
        if (i > 0 && std::isupper(c)) {
            auto prev = static_cast<unsigned char>(name[i - 1]);
            bool next_lower = i + 1 < name.size() && std::islower(static_cast<unsigned char>(name[i + 1]));
            if (std::islower(prev) || std::isdigit(prev) || (std::isupper(prev) && next_lower)) out += ' ';
        }
        out += static_cast<char>(std::toupper(c));
    }
    return out;
}

std::string align_tabs(std::string_view text) {
    constexpr size_t kMinWidth = 12, kPadding = 2;
    std::vector<std::vector<std::string_view>> lines;  // each: its cells, the last one not tab-terminated
    std::vector<bool> newline;
    size_t i = 0;
    while (i < text.size()) {
        size_t end = text.find('\n', i);
        std::string_view line = text.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
        std::vector<std::string_view> cells;
        size_t from = 0;
        for (;;) {
            size_t tab = line.find('\t', from);
            cells.push_back(line.substr(from, tab == std::string_view::npos ? std::string_view::npos : tab - from));
            if (tab == std::string_view::npos) break;
            from = tab + 1;
        }
        lines.push_back(std::move(cells));
        newline.push_back(end != std::string_view::npos);
        if (end == std::string_view::npos) break;
        i = end + 1;
    }
    // A column's width holds over each run of consecutive lines that have
    // a tab-terminated cell in it, as tabwriter's column blocks.
    std::vector<std::vector<size_t>> width(lines.size());
    for (size_t l = 0; l < lines.size(); ++l) width[l].assign(lines[l].size() ? lines[l].size() - 1 : 0, 0);
    size_t columns = 0;
    for (const auto& c : lines) columns = std::max(columns, c.size());
    for (size_t col = 0; col + 1 < columns; ++col) {
        size_t l = 0;
        while (l < lines.size()) {
            if (lines[l].size() <= col + 1) {
                ++l;
                continue;
            }
            size_t start = l, w = kMinWidth;
            while (l < lines.size() && lines[l].size() > col + 1) w = std::max(w, lines[l++][col].size() + kPadding);
            for (size_t k = start; k < l; ++k) width[k][col] = w;
        }
    }
    std::string out;
    for (size_t l = 0; l < lines.size(); ++l) {
        for (size_t c = 0; c < lines[l].size(); ++c) {
            out += lines[l][c];
            if (c + 1 < lines[l].size()) out.append(width[l][c] - lines[l][c].size(), ' ');
        }
        if (newline[l]) out += '\n';
    }
    return out;
}

}  // namespace minirt
