-- Argo CD health check for akidb.io/AkiCollection (Lua 5.1, as Argo CD runs it).
-- Ready=True -> Healthy; Ready=False while waiting on the cluster -> Progressing;
-- Ready=False for any other reason (a problem a person must fix or that persists) -> Degraded.
local hs = {}
if obj.status == nil or obj.status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end
local gen = obj.metadata.generation
local observed = obj.status.observedGeneration
if gen ~= nil and observed ~= nil and observed < gen then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. gen
  return hs
end
local waiting = { ClusterNotReady = true }
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" then
    if c.status == "True" then
      hs.status = "Healthy"
    elseif waiting[c.reason] then
      hs.status = "Progressing"
    else
      hs.status = "Degraded"
    end
    hs.message = c.reason .. ": " .. c.message
    return hs
  end
end
hs.status = "Progressing"
hs.message = "Waiting for the Ready condition"
return hs
