/** Stage 2's second core: decodes candidates' stored records and scores them, as the engine worker would (src/engine/stage2Helper.ts). */
import * as Comlink from 'comlink';
import { installComlinkErrorHandler } from '../src/app/comlinkErrors.ts';
import { EncodedStage2Scorer, type Stage2Helper } from '../src/engine/stage2Helper.ts';
import { decodeNamedFaceDetail, namedPatchCodecBytes } from '../src/storage/faceRecordCodec.ts';

installComlinkErrorHandler();
const scorer = new EncodedStage2Scorer(decodeNamedFaceDetail, { mapOf: namedPatchCodecBytes });
const helper: Stage2Helper = {
  beginQuery: async (query) => {
    const ack = await scorer.beginQuery(query);
    return Comlink.transfer(ack, [ack.returnedQuery.buffer]);
  },
  // The query's and the chunk's buffers go back transferred, not copied: the engine fills them again.
  scoreEncoded: async (chunk) => {
    const result = await scorer.scoreEncoded(chunk);
    return Comlink.transfer(result, [result.returnedRecords.buffer]);
  },
};
Comlink.expose(helper);
