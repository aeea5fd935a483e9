/** The alignment template chosen for each converted recognizer, and why. */
import { arcFaceTemplateIn } from './templates.ts';

/** PROVISIONAL: settled by measurement below. */
export const DLIB_TEMPLATE = arcFaceTemplateIn(150, 162, -23);
export const DLIB_TEMPLATE_NOTE = 'Template: ArcFace 112 points scaled x1.45 into the 150 crop.';

export const FACERES_TEMPLATE = arcFaceTemplateIn(224, 160, 0);
export const FACERES_TEMPLATE_NOTE = 'Template: ArcFace 112 points scaled into the 224 crop.';
