import {
  Button,
  Checkbox,
  Field,
  Input,
  makeStyles,
  Select,
  Switch,
  Title2,
  tokens,
} from '@fluentui/react-components';
import type { FieldProps } from '@fluentui/react-components';
import type { Outcome, ReviewerChoice, StageForm } from './definition-form';
import { OUTCOME_LABEL } from './definition-form';

const useStyles = makeStyles({
  stage: {
    display: 'flex',
    flexDirection: 'column',
    gap: tokens.spacingVerticalS,
    padding: tokens.spacingHorizontalM,
    border: `1px solid ${tokens.colorNeutralStroke1}`,
    borderRadius: tokens.borderRadiusMedium,
  },
  row: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalM },
  choices: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS },
});

const REVIEWERS: Record<ReviewerChoice, string> = {
  managers: 'Managers of the reviewees',
  groupOwners: 'Owners of the group or application',
  self: 'The reviewees themselves',
  users: 'Named users',
  groupMembers: 'Members of named groups',
};

/** The validation props of a field: the API's message for it, if any. */
export type FieldError = (key: string) => Pick<FieldProps, 'validationState' | 'validationMessage'>;

/** One stage of the review form: who reviews, for how long, who moves on and the recommendations. */
export function StageFields(props: {
  index: number;
  stage: StageForm;
  last: boolean;
  removable: boolean;
  err: FieldError;
  onChange: (patch: Partial<StageForm>) => void;
  onRemove: () => void;
}) {
  const styles = useStyles();
  const { index: i, stage: s, err, onChange } = props;
  const n = i + 1;
  return (
    <div className={styles.stage} role="group" aria-labelledby={`stage-${i}`}>
      <Title2 as="h2" id={`stage-${i}`}>
        Stage {n}
      </Title2>
      <div className={styles.row}>
        <Field label={`Stage ${n} reviewers`} {...err(`stage.${i}.reviewers`)}>
          <Select
            value={s.reviewers}
            onChange={(_, d) => onChange({ reviewers: d.value as ReviewerChoice, reviewerIds: '' })}
          >
            {(Object.keys(REVIEWERS) as ReviewerChoice[]).map((r) => (
              <option key={r} value={r}>
                {REVIEWERS[r]}
              </option>
            ))}
          </Select>
        </Field>
        {(s.reviewers === 'users' || s.reviewers === 'groupMembers') && (
          <Field
            label={s.reviewers === 'users' ? `Stage ${n} reviewer ids` : `Stage ${n} reviewer group ids`}
            hint={
              s.reviewers === 'users' ? 'User ids, separated by commas' : 'Group ids, separated by commas'
            }
            required
            {...err(`stage.${i}.reviewers`)}
          >
            <Input value={s.reviewerIds} onChange={(_, d) => onChange({ reviewerIds: d.value })} />
          </Field>
        )}
        <Field
          label={`Stage ${n} fallback reviewer ids`}
          hint="User ids, for reviewees nobody else reviews"
          {...err(`stage.${i}.fallbackReviewers`)}
        >
          <Input value={s.fallbackIds} onChange={(_, d) => onChange({ fallbackIds: d.value })} />
        </Field>
        <Field label={`Stage ${n} duration in days`} required {...err(`stage.${i}.durationInDays`)}>
          <Input
            type="number"
            min={1}
            value={s.durationInDays}
            onChange={(_, d) => onChange({ durationInDays: d.value })}
          />
        </Field>
      </div>
      {!props.last && (
        <Field
          label={`Who moves on to stage ${n + 1}`}
          {...err(`stage.${i}.decisionsThatWillMoveToNextStage`)}
        >
          <div className={styles.choices}>
            {(Object.keys(OUTCOME_LABEL) as Outcome[]).map((o) => (
              <Checkbox
                key={o}
                label={`${OUTCOME_LABEL[o]} in stage ${n}`}
                checked={s.moveOn[o]}
                onChange={(_, d) => onChange({ moveOn: { ...s.moveOn, [o]: Boolean(d.checked) } })}
              />
            ))}
          </div>
        </Field>
      )}
      <div className={styles.row}>
        <Switch
          label={`Stage ${n} shows recommendations`}
          checked={s.recommendations}
          onChange={(_, d) => onChange({ recommendations: d.checked })}
        />
        {s.recommendations && (
          <Field
            label={`Stage ${n} look-back in days`}
            hint="Not signed in for this long: Deny is recommended (default 30)"
            {...err(`stage.${i}.lookBackDays`)}
          >
            <Input
              type="number"
              min={1}
              value={s.lookBackDays}
              onChange={(_, d) => onChange({ lookBackDays: d.value })}
            />
          </Field>
        )}
      </div>
      {props.removable && (
        <div>
          <Button onClick={props.onRemove}>Remove stage {n}</Button>
        </div>
      )}
    </div>
  );
}
