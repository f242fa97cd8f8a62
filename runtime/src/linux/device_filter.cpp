#include "linux/device_filter.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "common/error.hpp"
#include "common/fd.hpp"

namespace minirt {

namespace {

// Registers: r1 is the context (struct bpf_cgroup_dev_ctx); we unpack it
// into r3 = device type, r4 = requested access, r5 = major, r6 = minor.
constexpr uint8_t R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5, R6 = 6, R7 = 7;

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}
bpf_insn load_u32(uint8_t dst, uint8_t src, int16_t off) { return insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0); }
bpf_insn mov_reg(uint8_t dst, uint8_t src) { return insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn mov_imm(uint8_t dst, int32_t imm) { return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
bpf_insn alu32_imm(uint8_t op, uint8_t dst, int32_t imm) { return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm); }
bpf_insn jne_imm(uint8_t dst, int32_t imm, int16_t off) { return insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm); }
bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

int32_t access_bits(const std::string& access) {
    int32_t bits = 0;
    if (access.find('m') != std::string::npos) bits |= BPF_DEVCG_ACC_MKNOD;
    if (access.find('r') != std::string::npos) bits |= BPF_DEVCG_ACC_READ;
    if (access.find('w') != std::string::npos) bits |= BPF_DEVCG_ACC_WRITE;
    return bits;
}

constexpr int32_t kAllAccess = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;

// One rule: a run of "if it does not match, skip to the next rule" tests,
// then "return allow". The skips are patched once the block's length is known.
// Returns false if the rule matches everything (nothing after it can run).
bool emit_rule(std::vector<bpf_insn>& prog, const DeviceAccessRule& r) {
    std::vector<bpf_insn> block;
    std::vector<size_t> skips;
    if (r.type != 'a') {
        skips.push_back(block.size());
        block.push_back(jne_imm(R3, r.type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, 0));
    }
    int32_t bits = access_bits(r.access);
    if (bits != kAllAccess) {
        // Matches only if every requested access is one the rule names.
        block.push_back(mov_reg(R7, R4));
        block.push_back(alu32_imm(BPF_AND, R7, ~bits & kAllAccess));
        skips.push_back(block.size());
        block.push_back(jne_imm(R7, 0, 0));
    }
    if (r.major >= 0) {
        skips.push_back(block.size());
        block.push_back(jne_imm(R5, static_cast<int32_t>(r.major), 0));
    }
    if (r.minor >= 0) {
        skips.push_back(block.size());
        block.push_back(jne_imm(R6, static_cast<int32_t>(r.minor), 0));
    }
    block.push_back(mov_imm(R0, r.allow ? 1 : 0));
    block.push_back(exit_insn());
    for (size_t at : skips) block[at].off = static_cast<int16_t>(block.size() - at - 1);
    prog.insert(prog.end(), block.begin(), block.end());
    return !skips.empty();
}

}  // namespace

const std::vector<DeviceAccessRule>& default_allowed_devices() {
    static const std::vector<DeviceAccessRule> rules{
        {true, 'c', -1, -1, "m"},  {true, 'b', -1, -1, "m"},  {true, 'c', 1, 3, "rwm"},   {true, 'c', 1, 8, "rwm"},
        {true, 'c', 1, 7, "rwm"},  {true, 'c', 5, 0, "rwm"},  {true, 'c', 1, 5, "rwm"},   {true, 'c', 1, 9, "rwm"},
        {true, 'c', 5, 1, "rwm"},  {true, 'c', 136, -1, "rwm"}, {true, 'c', 5, 2, "rwm"}, {true, 'c', 10, 200, "rwm"},
    };
    return rules;
}

std::vector<bpf_insn> device_filter_program(const std::vector<DeviceAccessRule>& rules) {
    std::vector<bpf_insn> prog{
        load_u32(R2, R1, 0),  // access_type: type in the low 16 bits, access above
        mov_reg(R3, R2),
        alu32_imm(BPF_AND, R3, 0xffff),
        mov_reg(R4, R2),
        alu32_imm(BPF_RSH, R4, 16),
        load_u32(R5, R1, 4),  // major
        load_u32(R6, R1, 8),  // minor
    };
    for (auto it = rules.rbegin(); it != rules.rend(); ++it)
        if (!emit_rule(prog, *it)) return prog;  // the verifier refuses unreachable code
    prog.push_back(mov_imm(R0, 0));  // nothing matched: deny
    prog.push_back(exit_insn());
    return prog;
}

void attach_device_filter(const std::string& cgroup_dir, const std::vector<DeviceAccessRule>& rules) {
    std::vector<bpf_insn> prog = device_filter_program(rules);
    auto load = [&](char* log, uint32_t log_size) {
        bpf_attr attr{};
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = reinterpret_cast<uint64_t>(prog.data());
        attr.insn_cnt = static_cast<uint32_t>(prog.size());
        attr.license = reinterpret_cast<uint64_t>("GPL");
        attr.log_buf = reinterpret_cast<uint64_t>(log);
        attr.log_size = log_size;
        attr.log_level = log ? 1 : 0;
        return UniqueFd(static_cast<int>(::syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr)));
    };
    UniqueFd prog_fd = load(nullptr, 0);
    if (!prog_fd) {
        int e = errno;
        // Again with the verifier's log, only to say why.
        std::vector<char> log(1 << 16);
        load(log.data(), static_cast<uint32_t>(log.size()));
        std::string detail(log.data());
        while (!detail.empty() && detail.back() == '\n') detail.pop_back();
        if (auto nl = detail.rfind('\n'); nl != std::string::npos) detail = detail.substr(nl + 1);
        throw Error(e, "load the device filter (eBPF)" + (detail.empty() ? "" : " (" + detail + ")"));
    }
    UniqueFd group(::open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!group) throw_errno("open cgroup " + cgroup_dir);
    bpf_attr attach{};
    attach.target_fd = static_cast<uint32_t>(group.get());
    attach.attach_bpf_fd = static_cast<uint32_t>(prog_fd.get());
    attach.attach_type = BPF_CGROUP_DEVICE;
    attach.attach_flags = BPF_F_ALLOW_MULTI;
    if (::syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach) < 0)
        throw_errno("attach the device filter to " + cgroup_dir);
}

}  // namespace minirt
