// pgbench's built-in tpcb-like transaction (`pgbench --show-script=tpcb-like`),
// statement by statement, named by the metric each one's time goes to;
// select-only is its selectAccounts alone. Kept apart so the workload's
// declared metrics can name them without loading the client.
export const TPCB_STATEMENTS = {
  begin: 'BEGIN',
  updateAccounts: 'UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2',
  selectAccounts: 'SELECT abalance FROM pgbench_accounts WHERE aid = $1',
  updateTellers: 'UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2',
  updateBranches: 'UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2',
  insertHistory: 'INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)',
  end: 'END',
} as const;
export type TpcbStatement = keyof typeof TPCB_STATEMENTS;
