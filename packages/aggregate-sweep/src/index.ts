export {
  aggregateSweepInput as input,
  environment,
  handler,
  type LeaderboardFile,
  type OutOfSample,
  type SweepLeaderboard,
  type Winner,
} from './handler';
export { type HoldoutCheck, leaderboardCsv, type MultipleTesting, type Ranked, rank } from './leaderboard';
