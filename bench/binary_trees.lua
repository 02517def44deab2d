-- Binary trees: allocation, table construction, recursion, the GC.
-- usage: lua binary_trees.lua DEPTH
local function bottom_up(depth)
  if depth == 0 then return { false, false } end
  depth = depth - 1
  return { bottom_up(depth), bottom_up(depth) }
end

local function check(tree)
  local l, r = tree[1], tree[2]
  if not l then return 1 end
  return 1 + check(l) + check(r)
end

local N = tonumber(arg and arg[1]) or 14
local mindepth = 4
local maxdepth = math.max(mindepth + 2, N)
local stretch = maxdepth + 1
print("stretch tree of depth " .. stretch .. "\t check: " .. check(bottom_up(stretch)))
local long_lived = bottom_up(maxdepth)
for depth = mindepth, maxdepth, 2 do
  local iters = 1 << (maxdepth - depth + mindepth)
  local c = 0
  for _ = 1, iters do c = c + check(bottom_up(depth)) end
  print(iters .. "\t trees of depth " .. depth .. "\t check: " .. c)
end
print("long lived tree of depth " .. maxdepth .. "\t check: " .. check(long_lived))
