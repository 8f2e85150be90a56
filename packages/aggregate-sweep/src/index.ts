export { aggregateSweepInput as input, environment, handler, type SweepLeaderboard } from './handler';
export { leaderboardCsv, type Ranked, rank } from './leaderboard';
