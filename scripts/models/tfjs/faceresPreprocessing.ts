/** FaceRes input scaling: PROVISIONAL, settled by measurement. */
export const FACERES_NORMALISATION = {
  channelOrder: 'RGB' as const,
  mean: [0, 0, 0],
  std: [1, 1, 1],
};
export const FACERES_NORMALISATION_NOTE = '';
