import {
  Button,
  Checkbox,
  Field,
  Input,
  makeStyles,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Select,
  Spinner,
  Switch,
  Textarea,
  Title1,
  Title2,
  tokens,
} from '@fluentui/react-components';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { DEFINITIONS, definition, instances } from '../../admin/api';
import type { DefinitionForm, Outcome, StageForm } from '../../admin/definition-form';
import {
  emptyForm,
  fieldErrors,
  fromDefinition,
  newStage,
  OUTCOME_LABEL,
  toDefinition,
} from '../../admin/definition-form';
import { api, ApiError, unwrap } from '../../api/client';
import { ErrorMessage } from '../../components/ErrorMessage';

const useStyles = makeStyles({
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, maxWidth: '760px' },
  stage: {
    display: 'flex',
    flexDirection: 'column',
    gap: tokens.spacingVerticalS,
    padding: tokens.spacingHorizontalM,
    border: `1px solid ${tokens.colorNeutralStroke1}`,
    borderRadius: tokens.borderRadiusMedium,
  },
  row: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalM },
  actions: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalM },
  legend: { fontWeight: tokens.fontWeightSemibold, padding: 0 },
  fieldset: {
    border: 'none',
    margin: 0,
    padding: 0,
    display: 'flex',
    flexWrap: 'wrap',
    gap: tokens.spacingHorizontalS,
  },
});

/** Where the form sends its body: a new definition (POST) or an existing one (PUT). */
async function save(definitionId: string | undefined, body: Record<string, unknown>): Promise<string> {
  if (definitionId) {
    unwrap(
      await api.PUT(`${DEFINITIONS}/{definitionId}`, {
        params: { path: { definitionId } },
        body: body as never,
      }),
    );
    return definitionId;
  }
  return unwrap(await api.POST(DEFINITIONS, { body: body as never })).id;
}

/** Create or edit a review of up to three stages; the API's validation errors show at their fields. */
export function ReviewForm() {
  const styles = useStyles();
  const { definitionId } = useParams();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [form, setForm] = useState<DefinitionForm>(emptyForm);
  const existing = useQuery({
    queryKey: ['admin', 'definition', definitionId],
    queryFn: () => definition(definitionId!),
    enabled: Boolean(definitionId),
  });
  useEffect(() => {
    if (existing.data) setForm(fromDefinition(existing.data));
  }, [existing.data]);
  const submit = useMutation({
    mutationFn: () => save(definitionId, toDefinition(form)),
    onSuccess: async (id) => {
      await queries.invalidateQueries({ queryKey: ['admin'] });
      const [latest] = (await instances(id)).slice(-1);
      void navigate(latest ? `/admin/reviews/${id}/${latest.id}` : '/admin/reviews');
    },
  });
  const errors =
    submit.error instanceof ApiError && submit.error.status === 400
      ? fieldErrors(submit.error.message, submit.error.details)
      : new Map<string, string>();
  const err = (key: string) =>
    errors.has(key) ? { validationState: 'error' as const, validationMessage: errors.get(key) } : {};
  const set = (patch: Partial<DefinitionForm>) => setForm((f) => ({ ...f, ...patch }));
  const setStage = (i: number, patch: Partial<StageForm>) =>
    setForm((f) => ({ ...f, stages: f.stages.map((s, j) => (j === i ? { ...s, ...patch } : s)) }));

  if (definitionId && existing.isPending) return <Spinner label="Loading the review…" />;
  if (existing.isError) return <ErrorMessage error={existing.error} />;
  const resourceLabel = form.scope === 'applicationUsers' ? 'Application (service principal) id' : 'Group id';
  return (
    <section aria-labelledby="review-form">
      <Title1 as="h1" id="review-form">
        {definitionId ? `Edit ${existing.data?.displayName ?? 'review'}` : 'New access review'}
      </Title1>
      <form
        className={styles.form}
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          submit.mutate();
        }}
      >
        {submit.isError && (
          <MessageBar intent="error" role="alert">
            <MessageBarBody>
              <MessageBarTitle>The review was not saved</MessageBarTitle>
              {errors.size
                ? `Check the ${errors.size === 1 ? 'field' : `${errors.size} fields`} marked below.`
                : submit.error.message}
            </MessageBarBody>
          </MessageBar>
        )}
        <Field label="Name" required {...err('displayName')}>
          <Input value={form.displayName} onChange={(_, d) => set({ displayName: d.value })} />
        </Field>
        <Field label="Description for reviewers" {...err('descriptionForReviewers')}>
          <Textarea
            value={form.descriptionForReviewers}
            onChange={(_, d) => set({ descriptionForReviewers: d.value })}
          />
        </Field>
        <div className={styles.row}>
          <Field label="What is reviewed" {...err('scope')}>
            <Select
              value={form.scope}
              onChange={(_, d) => set({ scope: d.value as DefinitionForm['scope'] })}
            >
              <option value="groupMembers">Members of a group</option>
              <option value="groupGuests">Guests in a group</option>
              <option value="applicationUsers">Users assigned to an application</option>
            </Select>
          </Field>
          <Field label={resourceLabel} required {...err('scope')}>
            <Input value={form.resourceId} onChange={(_, d) => set({ resourceId: d.value })} />
          </Field>
        </div>

        {form.stages.map((s, i) => (
          <div key={i} className={styles.stage} role="group" aria-labelledby={`stage-${i}`}>
            <Title2 as="h2" id={`stage-${i}`}>
              Stage {i + 1}
            </Title2>
            <div className={styles.row}>
              <Field label={`Stage ${i + 1} reviewers`} {...err(`stage.${i}.reviewers`)}>
                <Select
                  value={s.reviewers}
                  onChange={(_, d) => setStage(i, { reviewers: d.value as StageForm['reviewers'] })}
                >
                  <option value="managers">Managers of the reviewees</option>
                  <option value="groupOwners">Owners of the group or application</option>
                  <option value="self">The reviewees themselves</option>
                  <option value="users">Named users</option>
                </Select>
              </Field>
              {s.reviewers === 'users' && (
                <Field
                  label={`Stage ${i + 1} reviewer ids`}
                  hint="User ids, separated by commas"
                  {...err(`stage.${i}.reviewers`)}
                >
                  <Input value={s.reviewerIds} onChange={(_, d) => setStage(i, { reviewerIds: d.value })} />
                </Field>
              )}
              <Field
                label={`Stage ${i + 1} fallback reviewer ids`}
                hint="When no reviewer is found"
                {...err(`stage.${i}.fallbackReviewers`)}
              >
                <Input value={s.fallbackIds} onChange={(_, d) => setStage(i, { fallbackIds: d.value })} />
              </Field>
              <Field label={`Stage ${i + 1} duration in days`} required {...err(`stage.${i}.durationInDays`)}>
                <Input
                  type="number"
                  min={1}
                  value={s.durationInDays}
                  onChange={(_, d) => setStage(i, { durationInDays: d.value })}
                />
              </Field>
            </div>
            {i < form.stages.length - 1 && (
              <Field
                label={`Who moves on to stage ${i + 2}`}
                {...err(`stage.${i}.decisionsThatWillMoveToNextStage`)}
              >
                <div className={styles.fieldset}>
                  {(Object.keys(OUTCOME_LABEL) as Outcome[]).map((o) => (
                    <Checkbox
                      key={o}
                      label={`${OUTCOME_LABEL[o]} in stage ${i + 1}`}
                      checked={s.moveOn[o]}
                      onChange={(_, d) => setStage(i, { moveOn: { ...s.moveOn, [o]: Boolean(d.checked) } })}
                    />
                  ))}
                </div>
              </Field>
            )}
            <Switch
              label={`Stage ${i + 1} shows recommendations`}
              checked={s.recommendations}
              onChange={(_, d) => setStage(i, { recommendations: d.checked })}
            />
            {form.stages.length > 1 && (
              <div>
                <Button onClick={() => set({ stages: form.stages.filter((_, j) => j !== i) })}>
                  Remove stage {i + 1}
                </Button>
              </div>
            )}
          </div>
        ))}
        {errors.has('stages') && <ErrorMessage error={new Error(errors.get('stages'))} />}
        {form.stages.length < 3 && (
          <div>
            <Button onClick={() => set({ stages: [...form.stages, newStage()] })}>
              Add stage {form.stages.length + 1}
            </Button>
          </div>
        )}

        <Title2 as="h2">Settings</Title2>
        <div className={styles.row}>
          <Field label="Review duration in days" required {...err('instanceDurationInDays')}>
            <Input
              type="number"
              min={1}
              value={form.instanceDurationInDays}
              onChange={(_, d) => set({ instanceDurationInDays: d.value })}
            />
          </Field>
          <Field label="If reviewers do not respond" {...err('defaultDecision')}>
            <Select
              value={form.defaultDecision}
              onChange={(_, d) => set({ defaultDecision: d.value as DefinitionForm['defaultDecision'] })}
            >
              <option value="None">No change</option>
              <option value="Approve">Approve access</option>
              <option value="Deny">Remove access</option>
              <option value="Recommendation">Take the recommendation</option>
            </Select>
          </Field>
          <Field label="Recurrence" {...err('recurrence')}>
            <Select
              value={form.recurrence}
              onChange={(_, d) => set({ recurrence: d.value as DefinitionForm['recurrence'] })}
            >
              <option value="none">One time</option>
              <option value="weekly">Weekly</option>
              <option value="monthly">Monthly</option>
              <option value="quarterly">Quarterly</option>
            </Select>
          </Field>
        </div>
        <Switch
          label="Apply results automatically"
          checked={form.autoApply}
          onChange={(_, d) => set({ autoApply: d.checked })}
        />
        <Switch
          label="Reviewers must give a reason to approve"
          checked={form.justificationRequired}
          onChange={(_, d) => set({ justificationRequired: d.checked })}
        />
        {errors.has('settings') && <ErrorMessage error={new Error(errors.get('settings'))} />}
        <div className={styles.actions}>
          <Button appearance="primary" type="submit" disabled={submit.isPending}>
            {submit.isPending ? 'Saving…' : definitionId ? 'Save review' : 'Create review'}
          </Button>
          <Button onClick={() => void navigate('/admin/reviews')}>Cancel</Button>
        </div>
      </form>
    </section>
  );
}
