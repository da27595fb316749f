#!/bin/sh
# Regenerates the seed corpus of the fuzz_spop_frame target: one file per
# captured frame in tests/fixtures/spop/<version>/<name>.hex, named
# <version>-<name>.bin, plus a few hand-made frames (hand-*.bin) covering what
# the captures lack: agent frames, DISCONNECTs, every data type, multi-byte
# stream-ids and several frames in one stream. Run from the repository root:
#   sh tests/fuzz/make_corpus.sh
# Files the fuzzer adds live in build/fuzz/corpus-fuzz_spop_frame, not here.
set -eu
export LC_ALL=C
out=tests/fuzz/corpus/fuzz_spop_frame
mkdir -p "$out"

for hex in tests/fixtures/spop/*/*.hex; do
    version=$(basename "$(dirname "$hex")")
    xxd -r -p "$hex" >"$out/$version-$(basename "$hex" .hex).bin"
done

# s STR: the hex of the bytes of STR.
s() { printf '%s' "$1" | xxd -p | tr -d '\n'; }
# name STR: a length-prefixed name (STR must be shorter than 240 bytes).
name() { printf '%02x%s' "${#1}" "$(s "$1")"; }
# str STR: a typed STRING value.
str() { printf '08%s' "$(name "$1")"; }
# frame TYPE SIDHEX FIDHEX PAYLOADHEX: a whole frame with FIN set; sid and fid
# are given as already-encoded varints.
frame() {
    body=$(printf '%02x00000001%s%s%s' "$1" "$2" "$3" "$4")
    printf '%08x%s' $((${#body} / 2)) "$body"
}
# emit NAME HEX: writes the bytes of HEX to the corpus as hand-NAME.bin.
emit() { printf '%s' "$2" | xxd -r -p >"$out/hand-$1.bin"; }

agent_hello=$(frame 101 00 00 "$(name version)$(str 2.0)$(name max-frame-size)03fcf006$(name capabilities)$(str pipelining)")
ack=$(frame 103 01 01 "010302$(name mirrored)11")
ack_two=$(frame 103 fcf006 01 "010303$(name mirrored)11020201$(name seen)")
ack_empty=$(frame 103 03 01 "")
agent_discon=$(frame 102 00 00 "$(name status-code)0300$(name message)0800")
haproxy_discon=$(frame 2 00 00 "$(name status-code)0302$(name message)$(str 'a timeout occurred')")
# NOTIFY with two messages: one argument of every type (unnamed first), then
# a message without arguments.
args="00""00"
args="$args$(name flag)11$(name no)01"
args="$args$(name i32)0205$(name u32)03fcf006$(name i64)04fff0fefefefefefefe0e$(name u64)05f49401"
args="$args$(name src)067f000001$(name src6)0720010db8000000000000000000000001"
args="$args$(name method)$(str GET)$(name body)0905$(s hello)"
notify=$(frame 3 f0818001 02 "$(name mirror)0b$args$(name log)00")

emit agent-hello "$agent_hello"
emit ack "$ack"
emit ack-two-actions "$ack_two"
emit ack-empty "$ack_empty"
emit agent-disconnect "$agent_discon"
emit haproxy-disconnect "$haproxy_discon"
emit notify-all-types "$notify"
emit agent-hello-then-ack "$agent_hello$ack"
emit notify-then-haproxy-disconnect "$notify$haproxy_discon"
