import { describe, expect, it } from 'vitest';
import { addSource, settled } from './support/sources';
import { createTenant, openSession } from './support/tenants';
import { parleyOpenAI } from './support/openai-client';

const client = parleyOpenAI;

async function setup() {
  const tenant = await createTenant();
  const id = await addSource(tenant, {
    type: 'text',
    title: 'Help',
    content:
      '# Returns\n\nYou can return any item within 30 days for a full refund.\n\n# Hours\n\nSupport is open from 9 to 5 on weekdays.',
  });
  await settled(tenant, id);
  return { tenant, token: (await openSession(tenant)).body!.token };
}

interface ParleyExtra {
  parley: { citations: { title: string }[]; conversation_id: string; grounding: number };
}

describe('OpenAI-compatible API with the official openai client', () => {
  it('lists models and answers non-streaming with citations in an extra field', async () => {
    const { token } = await setup();
    const openai = client(token);
    const models = await openai.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['parley']);
    const completion = await openai.chat.completions.create({
      model: 'parley',
      messages: [{ role: 'user', content: 'How many days do I have to return an item?' }],
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toContain('30 days');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    const extra = completion as unknown as ParleyExtra;
    expect(extra.parley.citations[0]?.title).toBe('Help');
  });

  it('streams chunks in OpenAI format, with usage when asked', async () => {
    const { token } = await setup();
    const stream = await client(token).chat.completions.create({
      model: 'parley',
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Hi! How can I help?' },
        { role: 'user', content: 'When is support open?' },
      ],
    });
    let text = '';
    let finish: string | null | undefined;
    let sawUsage = false;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) sawUsage = true;
    }
    expect(text).toContain('9 to 5');
    expect(finish).toBe('stop');
    expect(sawUsage).toBe(true);
  });

  it('accepts a secret key with `user`, and refuses bad credentials the way the SDK understands', async () => {
    const { tenant } = await setup();
    const completion = await client(tenant.secretKey).chat.completions.create({
      model: 'parley',
      user: 'crm-user-7',
      messages: [{ role: 'user', content: 'When is support open?' }],
    });
    expect(completion.choices[0]?.message.content).toContain('9 to 5');
    await expect(
      client('sk_nope').chat.completions.create({ model: 'parley', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 401 });
    await expect(client(tenant.publishableKey).models.list()).rejects.toMatchObject({ status: 403 });
  });
});
