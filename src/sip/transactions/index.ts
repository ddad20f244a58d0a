/**
 * The transactions room: INVITE server transactions (RFC 3261 §17.2.1), their timers G, H and I,
 * the confirmed fingerprints, transaction keys and To-tags. What the UAS core may use.
 */
export { TxState, type InviteTransaction } from './invite-transaction.js';
export { ToTagGenerator } from './to-tag.js';
export { transactionKey } from './transaction-key.js';
export { TransactionTable, type AnsweredInvite, type ConfirmedLookup } from './transaction-table.js';
