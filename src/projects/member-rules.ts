/**
 * Who may change whom among a project's members. Pure rules: ./members.ts applies them to the
 * member rows it has locked, in the same transaction as the change.
 *
 * - owners add, change and remove anyone;
 * - admins add admins and agents, change agents (never into owners), remove agents, and leave;
 * - agents may only leave;
 * - nobody removes or demotes the last owner: a project always has someone who can delete it.
 */
import type { Role } from './schemas';

export interface Member {
  user_id: string;
  role: Role;
}

/** A change to an existing member: a new role, or removal. */
export type MemberChange = { role: Role } | 'remove';

export interface Refusal {
  code: 'forbidden' | 'conflict';
  message: string;
}

const forbidden = (message: string): Refusal => ({ code: 'forbidden', message });

/** Why `actor` may not add a member with `role`, or undefined when they may. */
export function addRefusal(actor: Role, role: Role): Refusal | undefined {
  if (actor === 'agent') return forbidden('Only owners and admins add members');
  if (actor === 'admin' && role === 'owner') return forbidden('Only owners make owners');
  return undefined;
}

/**
 * Why `actor` may not make `change` to `target`, or undefined when they may. `owners` is how
 * many owners the project has now.
 */
export function changeRefusal(
  actor: Member,
  target: Member,
  change: MemberChange,
  owners: number,
): Refusal | undefined {
  const self = actor.user_id === target.user_id;
  if (actor.role === 'agent' && !(change === 'remove' && self)) {
    return forbidden('Agents may only remove themselves');
  }
  if (actor.role === 'admin') {
    if (change === 'remove' && !self && target.role !== 'agent') {
      return forbidden('Admins may remove agents, or leave themselves; not other admins or owners');
    }
    if (change !== 'remove' && target.role !== 'agent') return forbidden('Admins may change the roles of agents only');
    if (change !== 'remove' && change.role === 'owner') return forbidden('Only owners make owners');
  }
  const losesOwner = target.role === 'owner' && (change === 'remove' || change.role !== 'owner');
  if (losesOwner && owners <= 1) {
    return {
      code: 'conflict',
      message: `The last owner cannot be ${change === 'remove' ? 'removed' : 'demoted'}: make another member owner first`,
    };
  }
  return undefined;
}
