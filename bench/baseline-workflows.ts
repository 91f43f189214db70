/** The baseline worker's workflows: raw signals and raw Updates to trivial workflows. */
export { benchBaseline } from './baseline-workflow';
export { benchUpdateBaseline } from './baseline-update-workflow';
