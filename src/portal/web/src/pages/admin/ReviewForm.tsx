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
import type { DefinitionForm, StageForm } from '../../admin/definition-form';
import { emptyForm, fromDefinition, newStage, toDefinition } from '../../admin/definition-form';
import { fieldErrors } from '../../admin/field-errors';
import type { FieldError } from '../../admin/StageFields';
import { StageFields } from '../../admin/StageFields';
import { api, ApiError, unwrap } from '../../api/client';
import { ErrorMessage } from '../../components/ErrorMessage';

const useStyles = makeStyles({
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, maxWidth: '760px' },
  row: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalM },
  actions: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalM },
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

/** Messages the form has no field for (a rule about all the stages or settings together). */
const GENERAL = ['stages', 'settings'];

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
  const err: FieldError = (key) =>
    errors.has(key) ? { validationState: 'error', validationMessage: errors.get(key) } : {};
  const set = (patch: Partial<DefinitionForm>) => setForm((f) => ({ ...f, ...patch }));
  const setStage = (i: number, patch: Partial<StageForm>) =>
    setForm((f) => ({ ...f, stages: f.stages.map((s, j) => (j === i ? { ...s, ...patch } : s)) }));

  if (definitionId && existing.isPending) return <Spinner label="Loading the review…" />;
  if (existing.isError) return <ErrorMessage error={existing.error} />;
  const atFields = [...errors.keys()].filter((k) => !GENERAL.includes(k)).length;
  const general = GENERAL.flatMap((k) => (errors.has(k) ? [errors.get(k)!] : []));
  const unit = form.recurrence === 'weekly' ? 'weeks' : 'months';
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
              {atFields > 0 && `Check the ${atFields === 1 ? 'field' : `${atFields} fields`} marked below. `}
              {general.join(' ')}
              {errors.size === 0 && submit.error.message}
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
        <Field label="Description for administrators" {...err('descriptionForAdmins')}>
          <Textarea
            value={form.descriptionForAdmins}
            onChange={(_, d) => set({ descriptionForAdmins: d.value })}
          />
        </Field>

        <Title2 as="h2">What is reviewed</Title2>
        <div className={styles.row}>
          <Field label="Resource">
            <Select
              value={form.resource}
              onChange={(_, d) => set({ resource: d.value as DefinitionForm['resource'] })}
            >
              <option value="group">Members of a group</option>
              <option value="application">Users assigned to an application</option>
            </Select>
          </Field>
          <Field
            label={form.resource === 'application' ? 'Application (service principal) id' : 'Group id'}
            required
            {...err('resourceId')}
          >
            <Input value={form.resourceId} onChange={(_, d) => set({ resourceId: d.value })} />
          </Field>
        </div>
        <div className={styles.row}>
          <Checkbox
            label="Guest users only"
            checked={form.guestsOnly}
            onChange={(_, d) => set({ guestsOnly: Boolean(d.checked) })}
          />
          <Checkbox
            label="Inactive users only"
            checked={form.inactiveOnly}
            onChange={(_, d) => set({ inactiveOnly: Boolean(d.checked) })}
          />
          {form.inactiveOnly && (
            <Field
              label="Inactive for days"
              hint="No sign-in for this long"
              required
              {...err('inactiveDays')}
            >
              <Input
                type="number"
                min={1}
                value={form.inactiveDays}
                onChange={(_, d) => set({ inactiveDays: d.value })}
              />
            </Field>
          )}
        </div>

        {form.stages.map((s, i) => (
          <StageFields
            key={i}
            index={i}
            stage={s}
            last={i === form.stages.length - 1}
            removable={form.stages.length > 1}
            err={err}
            onChange={(patch) => setStage(i, patch)}
            onRemove={() => set({ stages: form.stages.filter((_, j) => j !== i) })}
          />
        ))}
        {form.stages.length < 3 && (
          <div>
            <Button onClick={() => set({ stages: [...form.stages, newStage()] })}>
              Add stage {form.stages.length + 1}
            </Button>
          </div>
        )}

        <Title2 as="h2">Settings</Title2>
        <div className={styles.row}>
          <Field
            label="Review duration in days"
            hint="With stages, their durations add up instead"
            {...err('instanceDurationInDays')}
          >
            <Input
              type="number"
              min={0}
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
          {form.guestsOnly && (
            <Field label="When a guest is denied" {...err('guestAction')}>
              <Select
                value={form.guestAction}
                onChange={(_, d) => set({ guestAction: d.value as DefinitionForm['guestAction'] })}
              >
                <option value="removeAccess">Remove the access</option>
                <option value="disableAndDelete">Block sign-in, delete after 30 days</option>
              </Select>
            </Field>
          )}
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
        <Switch
          label="Later stages see earlier stages' decisions"
          checked={form.decisionHistories}
          onChange={(_, d) => set({ decisionHistories: d.checked })}
        />

        <Title2 as="h2">Recurrence</Title2>
        <div className={styles.row}>
          <Field label="Repeats" {...err('recurrence')}>
            <Select
              value={form.recurrence}
              onChange={(_, d) => set({ recurrence: d.value as DefinitionForm['recurrence'] })}
            >
              <option value="none">One time</option>
              <option value="weekly">Weekly</option>
              <option value="absoluteMonthly">Monthly</option>
            </Select>
          </Field>
          {form.recurrence !== 'none' && (
            <>
              <Field label={`Every how many ${unit}`} {...err('interval')}>
                <Input
                  type="number"
                  min={1}
                  value={form.interval}
                  onChange={(_, d) => set({ interval: d.value })}
                />
              </Field>
              <Field label="Start date" required {...err('startDate')}>
                <Input type="date" value={form.startDate} onChange={(_, d) => set({ startDate: d.value })} />
              </Field>
              <Field label="Ends">
                <Select
                  value={form.rangeType}
                  onChange={(_, d) => set({ rangeType: d.value as DefinitionForm['rangeType'] })}
                >
                  <option value="noEnd">Never</option>
                  <option value="numbered">After a number of reviews</option>
                  <option value="endDate">On a date</option>
                </Select>
              </Field>
              {form.rangeType === 'numbered' && (
                <Field label="Number of reviews" required {...err('occurrences')}>
                  <Input
                    type="number"
                    min={1}
                    value={form.occurrences}
                    onChange={(_, d) => set({ occurrences: d.value })}
                  />
                </Field>
              )}
              {form.rangeType === 'endDate' && (
                <Field label="End date" required {...err('endDate')}>
                  <Input type="date" value={form.endDate} onChange={(_, d) => set({ endDate: d.value })} />
                </Field>
              )}
            </>
          )}
        </div>
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
