/** The parsed command-line options every command receives (their meaning: cli/commands.ts). */
export interface Flags {
  config?: string;
  stage?: string;
  region?: string;
  target?: string;
  account?: string;
  databases?: string;
  all: boolean;
  force: boolean;
  write: boolean;
  event?: string;
  inventory?: string;
  policy?: string;
  break?: string;
  engine?: string;
  size?: string;
  snapshot?: string;
  pitr?: string;
  limit?: string;
  alarm?: string;
  history?: string;
  bucket?: string;
  month?: string;
  out?: string;
  local?: boolean;
  wait: boolean;
  'dry-run': boolean;
  json: boolean;
  help: boolean;
  version?: boolean;
}
