/**
 * The part of a link's cap that one process takes: the link's consumers share it evenly, and a process
 * runs `consumersHere` of the `consumersInGroup` members of the link's group (all of it until the group
 * has been asked, or while it does not answer).
 */
export function shareOfCap(
  capBytesPerSecond: number,
  consumersHere: number,
  consumersInGroup: number,
): number {
  const members = Math.max(consumersHere, consumersInGroup);
  return (capBytesPerSecond * consumersHere) / members;
}
