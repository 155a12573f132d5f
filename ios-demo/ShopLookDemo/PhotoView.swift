// The analysed photo with a tappable box and label on each target, a draw-a-box mode and the
// product sheet. Positions come from BoxMapper/layoutBoxes (ShopLookDemoCore, host-tested); taps
// go through DemoController.tap (hitTest), drags through drawnRegion.
import ShopLook
import ShopLookDemoCore
import SwiftUI

struct PhotoView: View {
    let state: PhotoState
    let controller: DemoController
    let onSettings: () -> Void
    @EnvironmentObject private var model: DemoModel
    @State private var drag: (from: CGPoint, to: CGPoint)?

    var body: some View {
        let image = UIImage(data: state.photo)   // UIImage applies the EXIF orientation, like the core
        GeometryReader { geo in
            let mapper = BoxMapper(analysis: state.analysis, viewWidth: Float(geo.size.width), viewHeight: Float(geo.size.height))
            let boxes = mapper.map { layoutBoxes(state.targets, $0) } ?? []
            ZStack(alignment: .topLeading) {
                if let image {
                    Image(uiImage: image).resizable().aspectRatio(contentMode: .fit)
                        .frame(width: geo.size.width, height: geo.size.height)
                }
                ForEach(Array(boxes.enumerated()), id: \.offset) { _, b in
                    BoxView(box: b, selected: state.sheet?.target == b.target)
                }
                if let drag {
                    Rectangle().stroke(Color.yellow, lineWidth: 3)
                        .frame(width: abs(drag.to.x - drag.from.x), height: abs(drag.to.y - drag.from.y))
                        .offset(x: min(drag.from.x, drag.to.x), y: min(drag.from.y, drag.to.y))
                }
            }
            .contentShape(Rectangle())
            .gesture(drawGesture(mapper), including: state.drawing ? .all : .subviews)
            .onTapGesture(coordinateSpace: .local) { p in
                if !state.drawing { controller.tap(boxes, Float(p.x), Float(p.y), slop: 22) }
            }
        }
        .overlay(alignment: .top) {
            HStack {
                Button("New photo") { controller.newPhoto() }
                Button(state.drawing ? "Stop drawing" : "Draw a box") { controller.setDrawing(!state.drawing) }
                Button("Settings", action: onSettings)
            }
            .buttonStyle(.borderedProminent).padding(8)
        }
        .overlay(alignment: .bottom) {
            if state.drawing {
                Hint(text: "Drag a box around what you want to find.")
            } else if let notice = state.notice, state.sheet == nil {
                MessageView(message: notice, controller: controller, onSettings: onSettings)
                    .background(.regularMaterial).cornerRadius(12).padding()
            } else if state.sheet == nil {
                Hint(text: "Tap a box to find it in the catalogue.")
            }
        }
        .sheet(isPresented: Binding(get: { state.sheet != nil }, set: { if !$0 { controller.dismissSheet() } })) {
            if let sheet = state.sheet {
                // Settings open from inside the sheet (one sheet cannot present over another's parent).
                ProductSheetView(sheet: sheet, controller: controller)
                    .environmentObject(model)
                    .presentationDetents([.medium, .large])
            }
        }
    }

    private func drawGesture(_ mapper: BoxMapper?) -> some Gesture {
        DragGesture(minimumDistance: 4, coordinateSpace: .local)
            .onChanged { v in drag = (v.startLocation, v.location) }
            .onEnded { v in
                drag = nil
                if let mapper, let region = drawnRegion(mapper, Float(v.startLocation.x), Float(v.startLocation.y),
                                                        Float(v.location.x), Float(v.location.y)) {
                    controller.addDrawnBox(region)
                }
            }
    }
}

private struct BoxView: View {
    let box: ScreenBox
    let selected: Bool

    var body: some View {
        let color: Color = { if case .drawn = box.target { return .yellow } else { return .green } }()
        let r = box.rect
        ZStack(alignment: .topLeading) {
            Rectangle().stroke(color, lineWidth: selected ? 5 : 2.5)
                .frame(width: CGFloat(r.width), height: CGFloat(r.height))
            Text(box.caption).font(.caption2).padding(2).background(color).foregroundColor(.black)
                .offset(y: -16)
        }
        .offset(x: CGFloat(r.left), y: CGFloat(r.top))
        .accessibilityElement()
        .accessibilityLabel(box.caption)
        .accessibilityAddTraits(.isButton)
    }
}

private struct Hint: View {
    let text: String
    var body: some View {
        Text(text).foregroundColor(.white).padding(12).background(Color.black.opacity(0.6)).cornerRadius(8).padding(24)
    }
}
