-- Closures, metatables and method calls: a small class hierarchy and an
-- event queue, the way OOP-style Lua code runs.
-- usage: lua closures.lua N
local N = tonumber(arg and arg[1]) or 300000

local Vec = {}
Vec.__index = Vec
function Vec.new(x, y) return setmetatable({ x = x, y = y }, Vec) end
function Vec.__add(a, b) return Vec.new(a.x + b.x, a.y + b.y) end
function Vec:scale(k) return Vec.new(self.x * k, self.y * k) end
function Vec:dot(o) return self.x * o.x + self.y * o.y end

local Shape = {}
Shape.__index = Shape
function Shape.new(kind) return setmetatable({ kind = kind, pos = Vec.new(0, 0) }, Shape) end
function Shape:move(d) self.pos = self.pos + d end
function Shape:area() return 0 end

local Circle = setmetatable({}, { __index = Shape })
Circle.__index = Circle
function Circle.new(r) local s = Shape.new("circle"); s.r = r; return setmetatable(s, Circle) end
function Circle:area() return 3 * self.r * self.r end

local Rect = setmetatable({}, { __index = Shape })
Rect.__index = Rect
function Rect.new(w, h) local s = Shape.new("rect"); s.w = w; s.h = h; return setmetatable(s, Rect) end
function Rect:area() return self.w * self.h end

local function counter()
  local n = 0
  return function(k) n = n + (k or 1); return n end
end

local shapes = {}
for i = 1, 64 do shapes[i] = (i % 3 == 0) and Circle.new(i % 7 + 1) or Rect.new(i % 5 + 1, i % 4 + 1) end

local handlers = {}
local total = counter()
handlers.area = function(s) return total(s:area()) end
handlers.move = function(s, i) s:move(Vec.new(i % 3 - 1, i % 5 - 2)); return 0 end
handlers.dot = function(s, i) return total(s.pos:dot(Vec.new(1, i % 2)) % 7) end
local names = { "area", "move", "dot", "move" }

local acc = 0
for i = 1, N do
  local s = shapes[i % #shapes + 1]
  local h = handlers[names[i % #names + 1]]
  acc = acc + h(s, i)
  if i % 1000 == 0 then
    local v = Vec.new(1, 1)
    for _ = 1, 10 do v = v:scale(1.5) + Vec.new(-0.5, 0.25) end
    acc = acc + math.floor(v.x)
  end
end
print(acc, total(0))
