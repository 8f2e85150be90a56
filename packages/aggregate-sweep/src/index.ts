export { aggregateSweepInput as input, environment, handler, type SweepLeaderboard } from './handler';
export { leaderboardCsv, rank } from './leaderboard';
