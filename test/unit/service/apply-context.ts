// applyEvent's context for its unit tests: the given stand-in for the local history's few
// methods a case needs, a store guard that never fails, host 'h', nobody allowed to delete
// others' messages (as far as we know), and no log.
import type { ApplyContext } from '../../../src-main/service/apply-event.ts';
import type { LocalHistory } from '../../../src-main/service/local-history.ts';
import { LocalStoreGuard } from '../../../src-main/service/local-store-guard.ts';

/** `history`: only the methods the case calls, shaped loosely (the rest are never reached). */
export function applyContext(history: object, ownKey: string): ApplyContext {
  return {
    history: history as unknown as LocalHistory,
    store: new LocalStoreGuard(
      () => undefined,
      () => undefined,
    ),
    host: 'h',
    ownKey,
    mayDeleteOthers: () => false,
    log: () => undefined,
  };
}
