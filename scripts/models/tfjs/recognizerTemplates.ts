/**
 * The alignment template chosen for each converted recognizer, and why.
 * Both are the ArcFace 112 template (faceplugin.ts) scaled and shifted
 * (templates.ts), chosen by leave-one-out P@1 on LFW (lfw-dev, first 200
 * identities with >= 2 images, 514 faces, 5 points from face-api's
 * 68-point net, least-squares similarity warp); see docs/models-tfjs.md.
 */
import { arcFaceTemplateIn } from './templates.ts';

/**
 * dlib's ResNet was trained on dlib "face chips": 150x150 with 25% padding
 * around the mean face shape, which shows the whole head and puts the eyes
 * about a third of the way down. ArcFace's points fitted (least squares) to
 * that chip's points: its 112 square spans 162 px, centre 23 px above the
 * crop centre. Measured P@1: 97.9% (dlib's own chip points 98.1%; ArcFace
 * framing, 112 px centred, 34.6%).
 */
export const DLIB_TEMPLATE = arcFaceTemplateIn(150, 162, -23);
export const DLIB_TEMPLATE_NOTE =
  "Template: ArcFace 112 points scaled x1.446 (square 162 px) with centre 23 px above the 150 crop's centre, i.e. dlib's 150 px face chip " +
  '(padding 0.25, whole head); LFW leave-one-out P@1 97.9% vs 34.6% for the unscaled ArcFace framing.';

/**
 * HSE FaceRes was trained on loose MTCNN boxes (+10 px margin) resized to
 * 224. ArcFace's 112 square spanning 190 px, centred, was best or tied
 * (P@1 95.9%; 150 px 95.5% on a subset, 112 px 81.4%, 215 px 94.7%).
 */
export const FACERES_TEMPLATE = arcFaceTemplateIn(224, 190, 0);
export const FACERES_TEMPLATE_NOTE =
  'Template: ArcFace 112 points scaled x1.696 (square 190 px), centred in the 224 crop (a loose crop like the MTCNN box + margin FaceRes was trained on); ' +
  'LFW leave-one-out P@1 95.9% vs 81.4% at 112 px.';
