-- Argo CD health check for cdm.nucleus.io/CdmSinkProvision, following kstatus:
--   being deleted, Stalled=True for this generation        -> Degraded (deletion blocked: a human must act)
--   being deleted, otherwise                               -> Progressing ("Deleting: ...")
--   Stalled=True for this generation                       -> Degraded (a human must act)
--   Ready=True for this generation                         -> Healthy
--   Ready=False with reason Suspended, for this generation -> Suspended
--   anything else (no status yet, older generation, retrying) -> Progressing
-- Argo CD runs this in gopher-lua (Lua 5.1) without the string and math libraries, so it uses only
-- base functions, tables and `..` (test/integration/argocd-health.test.ts runs it that way).
-- Argo CD itself reports any object with a deletionTimestamp as Progressing "Pending deletion" without
-- calling this script; the deletion branch is for whatever else runs it, and so that a deleting object
-- never reads Healthy.
local hs = {}

local function condition(conditionType)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local function describe(c)
  local reason = c.reason or "Unknown"
  if c.message ~= nil and c.message ~= "" then
    return reason .. ": " .. c.message
  end
  return reason
end

-- While deleting, the reason Deleting only repeats the prefix; any other (Suspended, ConnectionFailed) is news.
local function describeDeletion(c)
  if c.reason == "Deleting" and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return describe(c)
end

local generation = obj.metadata.generation
local ready = condition("Ready")
local stalled = condition("Stalled")

local function observedGeneration(c)
  if c ~= nil and c.observedGeneration ~= nil then
    return c.observedGeneration
  end
  if obj.status ~= nil then
    return obj.status.observedGeneration
  end
  return nil
end

-- A condition counts only if it was computed for the current spec (kubectl wait does the same): a
-- Ready=True from before an edit, or a Stalled=True the edit may have fixed, says nothing yet.
local function current(c)
  if c == nil then
    return false
  end
  local observed = observedGeneration(c)
  return generation == nil or (observed ~= nil and observed >= generation)
end

local function waitingMessage()
  if generation == nil then
    return "Waiting for the controller to write status"
  end
  local observed = observedGeneration(ready)
  if observed == nil then
    return "Waiting for the controller to observe generation " .. tostring(generation)
  end
  return "Waiting for the controller to observe generation " .. tostring(generation) ..
    " (status is for generation " .. tostring(observed) .. ")"
end

-- The API server bumps metadata.generation when it sets deletionTimestamp, so until the controller
-- has run the deletionPolicy once, the conditions are those of the last reconcile and not current.
if obj.metadata.deletionTimestamp ~= nil then
  if stalled ~= nil and stalled.status == "True" and current(stalled) then
    hs.status = "Degraded"
    hs.message = "Deletion blocked: " .. describeDeletion(stalled)
    return hs
  end
  hs.status = "Progressing"
  if current(ready) and ready.status ~= "True" then
    hs.message = "Deleting: " .. describeDeletion(ready)
  else
    local policy = "Retain"
    if obj.spec ~= nil and obj.spec.deletionPolicy ~= nil then
      policy = obj.spec.deletionPolicy
    end
    hs.message = "Deleting: waiting for the controller to run deletionPolicy " .. policy
    if not current(ready) then
      hs.message = hs.message .. " (generation " .. tostring(generation) .. " not yet observed)"
    end
  end
  return hs
end

if stalled ~= nil and stalled.status == "True" and current(stalled) then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end

if current(ready) then
  if ready.status == "True" then
    hs.status = "Healthy"
    hs.message = describe(ready)
    return hs
  end
  if ready.reason == "Suspended" then
    hs.status = "Suspended"
    hs.message = describe(ready)
    return hs
  end
  hs.status = "Progressing"
  hs.message = describe(ready)
  return hs
end

hs.status = "Progressing"
hs.message = waitingMessage()
return hs
