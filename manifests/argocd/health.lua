-- Argo CD health check for cdm.nucleus.io/CdmSinkProvision, following kstatus:
--   Stalled=True                                         -> Degraded (a human must act)
--   Ready=False with reason Suspended, for this generation -> Suspended
--   Ready=True, observed for this generation              -> Healthy
--   anything else (no status yet, older generation, retrying) -> Progressing
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
  if c == nil then
    return ""
  end
  if c.message ~= nil and c.message ~= "" then
    return c.reason .. ": " .. c.message
  end
  return c.reason
end

local generation = obj.metadata.generation
local ready = condition("Ready")
local stalled = condition("Stalled")

-- A condition counts only if it was computed for the current spec (kubectl wait does the same).
local function current(c)
  local observed = nil
  if c ~= nil and c.observedGeneration ~= nil then
    observed = c.observedGeneration
  elseif obj.status ~= nil then
    observed = obj.status.observedGeneration
  end
  return generation == nil or (observed ~= nil and observed >= generation)
end

if stalled ~= nil and stalled.status == "True" and current(stalled) then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end

if ready ~= nil and current(ready) then
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
end

hs.status = "Progressing"
if ready ~= nil and current(ready) then
  hs.message = describe(ready)
else
  hs.message = "Waiting for the controller to observe generation " .. tostring(generation)
end
return hs
