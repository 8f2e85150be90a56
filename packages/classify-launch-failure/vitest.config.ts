import shared from '../../vitest.shared.mts';

export default shared;
