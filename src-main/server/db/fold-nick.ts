// Nicknames are compared by a folded form so that "Alice", "ALICE" and "Ａｌｉｃｅ" (full-width) are
// one name. NFKC merges compatibility forms; lower-casing merges case; the final NFKC keeps the
// result stable where lower-casing produces a sequence that NFKC would compose differently.
// Not covered: cross-script look-alikes (Cyrillic "а" vs Latin "a"), which need UTS #39 skeletons.
export function foldNick(nick: string): string {
  return nick.normalize('NFKC').toLowerCase().normalize('NFKC');
}
